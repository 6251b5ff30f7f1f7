using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Coordination.Crashes;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// Someone who can write etcd but holds no host's key (an etcd operator, a stolen etcd client certificate, a backup
/// restored by hand) puts back the record the source signed before the commit. It is genuine, so no signature check stops
/// it; the revisions do. Coordinated migrations, simulated hypervisor, real channel and a real etcd cluster.
/// </summary>
public sealed class EtcdReplayTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    /// <summary>
    /// The destination commits and runs; the acknowledgement is cut, and before the source asks the registry the old
    /// record is back. Taking the VM back on its word would run a second copy: the source's take-back is bound to the
    /// revision it started from, so it stays paused in doubt and the destination's copy is the only one running. The record
    /// put back is the one the migration started from, or an older one of the source's (its registration, before a
    /// reclaim moved the epoch on), which names the source at another epoch.
    /// </summary>
    [RequiresProgramTheory("etcd")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheOldRecordPutBackAfterTheCommit_TheSourceDoesNotTakeTheVmBack(bool anOlderEpoch)
    {
        TwoHosts? hosts = null;
        byte[]? beforeCommit = null;
        hosts = await TwoHosts.CreateAsync(withRelay: true, registries: host => Registries.For(host),
            destinationRegistry: registry => new FaultAtMoveRegistry(registry, after: () =>
            {
                hosts!.Relay!.CutNow();
                return Task.CompletedTask;
            }),
            sourceRegistry: registry => new FaultAtMoveRegistry(registry, before: async () =>
            {
                await hosts!.LastDestination;
                await Registries.WriteRecordAsync(TwoHosts.VmId, beforeCommit!);
            }));
        await using (hosts)
        {
            beforeCommit = await Registries.ReadRecordAsync(TwoHosts.VmId);
            if (anOlderEpoch)
            {
                // The source reclaims the VM once (epoch 2); its registration at epoch 1 is what is put back later.
                Assert.True((await Registries.For(hosts.Source.Id).TryMoveAsync(TwoHosts.VmId, 1, hosts.Source.Id, hosts.Source.Id,
                    Guid.NewGuid())).Moved);
            }

            MigrationInDoubtException doubt = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

            Assert.Contains("was rewritten since this migration read it", doubt.Message, StringComparison.Ordinal);
            Assert.True((await hosts.LastDestination)!.IsCommitted);
            Assert.Equal(VmRunState.Running, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
            Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        }
    }

    /// <summary>
    /// The old record is back right after the destination's commit, before its copy runs: the record no longer stands at
    /// the commit's revision (the fencing token), so the destination does not run its copy on a registry that names
    /// another owner, and the source, which asks the registry whatever the acknowledgement said, finds its record rewritten.
    /// Both stay paused in doubt, both copies kept: no copy runs on a forged word, not even on the commit's own record put back
    /// (a new revision), since whoever can write etcd could put it back after the source resumed on an older one.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task TheOldRecordPutBackBeforeTheDestinationRuns_TheFencingTokenKeepsItPaused()
    {
        byte[]? beforeCommit = null;
        byte[]? commit = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host),
            destinationRegistry: registry => new FaultAtMoveRegistry(registry, after: async () =>
            {
                commit = await Registries.ReadRecordAsync(TwoHosts.VmId);
                await Registries.WriteRecordAsync(TwoHosts.VmId, beforeCommit!);
            }));
        beforeCommit = await Registries.ReadRecordAsync(TwoHosts.VmId);

        MigrationInDoubtException source = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

        MigrationInDoubtException destination = await Assert.ThrowsAsync<MigrationInDoubtException>(() => hosts.LastDestination);
        Assert.Contains("this host committed the VM at registry revision", destination.Message, StringComparison.Ordinal);
        Assert.Contains("was rewritten since this migration read it", source.Message, StringComparison.Ordinal);
        Assert.Equal(VmRunState.Paused, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.StartsWith("left in doubt", Assert.Single(await hosts.Destination.Coordinator.RecoverAsync()).Decision,
            StringComparison.Ordinal);
        Assert.Equal(VmRunState.Paused, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);

        // The commit's own record put back does not run it either: anyone who can write etcd can put those bytes back after the
        // source resumed on an older record.
        await Registries.WriteRecordAsync(TwoHosts.VmId, commit!);
        Assert.StartsWith("left in doubt", Assert.Single(await hosts.Destination.Coordinator.RecoverAsync()).Decision,
            StringComparison.Ordinal);
        Assert.Equal(VmRunState.Paused, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
    }

    /// <summary>
    /// The destination's commit is late: meanwhile the source took the VM back (epoch 2) and someone put the record the
    /// migration started from back (epoch 1, the source, genuine). An unbound swap from (source, 1) would pass and run a
    /// second copy beside the source's; the commit is bound to the revision in the source's ticket, so it does not move,
    /// and the destination rolls back.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task TheRecordTakenBackAndPutBackBeforeALateCommit_TheCommitDoesNotMove()
    {
        TwoHosts? hosts = null;
        byte[]? started = null;
        hosts = await TwoHosts.CreateAsync(registries: host => Registries.For(host),
            destinationRegistry: registry => new FaultAtMoveRegistry(registry, before: async () =>
            {
                Assert.True((await Registries.For(hosts!.Source.Id).TryMoveAsync(TwoHosts.VmId, 1, hosts.Source.Id, hosts.Source.Id,
                    Guid.NewGuid())).Moved);
                await Registries.WriteRecordAsync(TwoHosts.VmId, started!);
            }));
        await using (hosts)
        {
            started = await Registries.ReadRecordAsync(TwoHosts.VmId);

            await Assert.ThrowsAnyAsync<MigrationException>(async () => await hosts.MigrateAsync());

            MigrationResult destination = (await hosts.LastDestination)!;
            Assert.False(destination.IsCommitted);
            Assert.Contains("took the VM back before the commit", destination.Reason, StringComparison.Ordinal);
            Assert.NotEqual(VmRunState.Running, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
            OwnershipRecord record = (await Registries.For("observer.test").GetAsync(TwoHosts.VmId))!;
            Assert.Equal((hosts.Source.Id, 1L), (record.Owner, record.Epoch));
        }
    }

    /// <summary>
    /// A first migration was vetoed and taken back (the record names its id). Before the second one's commit, a host of the
    /// cluster with valid credentials (an insider) moves the record to itself under that first migration's id, as if this
    /// source had handed it over then. The destination's commit fails and it rolls back; the source, which knows the revision
    /// it started from, does not take that record for a migration of its own and discard its copy (it did, before: no copy
    /// left, and the insider holding an empty epoch). It stays paused in doubt.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task AThirdHostTakesTheRecordUnderAnOldMigrationsId_TheSourceKeepsItsCopyInDoubt()
    {
        var options = new CoordinatorOptions();
        int attempts = 0;
        options.PreMigrateHooks.Add(new DelegateHook("first-veto", (_, _) =>
            Task.FromResult(Interlocked.Increment(ref attempts) == 1 ? HookVerdict.Veto("not the first time") : HookVerdict.Allow)));
        TwoHosts? hosts = null;
        hosts = await TwoHosts.CreateAsync(sourceOptions: options, registries: host => Registries.For(host),
            destinationRegistry: registry => new FaultAtMoveRegistry(registry, before: async () =>
            {
                OwnershipRecord first = (await Registries.For("insider.test").GetAsync(TwoHosts.VmId))!;
                Assert.True((await Registries.For("insider.test").TryMoveAsync(TwoHosts.VmId, first.Epoch, hosts!.Source.Id,
                    "insider.test", first.MigrationId!.Value)).Moved);
            }));
        await using (hosts)
        {
            Assert.Equal(MigrationStatus.RolledBack, (await hosts.MigrateAsync()).Source.Status);

            MigrationInDoubtException doubt = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

            Assert.Contains("'insider.test' holds epoch 3", doubt.Message, StringComparison.Ordinal);
            Assert.False((await hosts.LastDestination)!.IsCommitted);
            Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        }
    }

    /// <summary>
    /// Both hosts crash around the commit (the destination before it took the epoch), and an older record of the source's is
    /// put back (epoch 1, below the epoch 2 the migration started from). Recovered first, the destination does not take that
    /// for "nothing moved" and destroy its copy: a commit it sent before the crash could still land. It waits in doubt.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task AnOlderRecordPutBackAfterBothCrashed_TheDestinationKeepsItsCopyInDoubt()
    {
        var options = new CoordinatorOptions { StallTimeout = TimeSpan.FromSeconds(2), CommitTimeout = TimeSpan.FromSeconds(2) };
        var sourceCrash = new CrashPlan(9);
        var destinationCrash = new CrashPlan(CrashSteps.DestinationTookTheEpoch - 1);
        await using TwoHosts hosts = await TwoHosts.CreateAsync(options, options, sourceCrash: sourceCrash,
            destinationCrash: destinationCrash, registries: host => Registries.For(host));
        byte[] registration = (await Registries.ReadRecordAsync(TwoHosts.VmId))!;
        Assert.True((await Registries.For(hosts.Source.Id).TryMoveAsync(TwoHosts.VmId, 1, hosts.Source.Id, hosts.Source.Id,
            Guid.NewGuid())).Moved);

        (Exception? sourceEnd, Exception? destinationEnd) = await hosts.MigrateThroughCrashesAsync();
        Assert.Same(sourceCrash.Crash, sourceEnd);
        Assert.Same(destinationCrash.Crash, destinationEnd);
        await hosts.RestartBothAsync();
        await Registries.WriteRecordAsync(TwoHosts.VmId, registration);

        RecoveredMigration waiting = Assert.Single(await hosts.Destination.Coordinator.RecoverAsync());

        Assert.StartsWith("left in doubt: the registry still shows 'source.test' holds epoch 1", waiting.Decision,
            StringComparison.Ordinal);
        Assert.Equal(VmRunState.Paused, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
    }
}
