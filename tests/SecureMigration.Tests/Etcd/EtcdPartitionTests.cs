using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// The source host is cut off from etcd after the stream ended, as the destination commits (on loopback: the source
/// reaches each member through a link the test partitions; the destination reaches them directly). Coordinated migration,
/// simulated hypervisor, real channel, real etcd.
/// </summary>
public sealed class EtcdPartitionTests(EtcdClusterFixture fixture) : EtcdClusterTests(fixture)
{
    /// <summary>
    /// The destination commits and runs; the source, even with the acknowledgement in hand, asks the registry, cannot, and
    /// keeps its copy paused in doubt rather than resume it; recovery while still cut off does nothing. Once the partition
    /// heals, its recovery finds the commit and discards its copy: exactly one runnable copy, where the registry says.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task SourcePartitionedFromEtcdAfterTheStream_StaysPausedUntilItCanAsk_ThenOneCopyRemains()
    {
        PartitionableLink[] links = [.. Fixture.Cluster.ClientEndPoints.Select(e => new PartitionableLink(e))];
        try
        {
            var options = new CoordinatorOptions { CommitTimeout = TimeSpan.FromSeconds(5) };
            await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceOptions: options, destinationOptions: options,
                registries: host => host == "source.test" ? Registries.For(host, TimeSpan.FromSeconds(2), links) : Registries.For(host),
                destinationRegistry: registry => new FaultAtMoveRegistry(registry, before: () =>
                {
                    foreach (PartitionableLink link in links)
                    {
                        link.Partition();
                    }

                    return Task.CompletedTask;
                }));

            MigrationInDoubtException doubt = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

            Assert.Contains("could not be reached after the commit was requested", doubt.Message, StringComparison.Ordinal);
            Assert.True((await hosts.LastDestination)!.IsCommitted);
            Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
            Assert.Equal(VmRunState.Running, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
            // Still cut off, recovery cannot check its journal against the head anchored in etcd: it acts on nothing (a journal
            // rolled back by someone who also cut the host off would otherwise pass), and the copy stays paused.
            await Assert.ThrowsAnyAsync<IOException>(() => hosts.Source.Coordinator.RecoverAsync());
            Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);

            foreach (PartitionableLink link in links)
            {
                link.Heal();
            }

            RecoveredMigration healed = Assert.Single(await hosts.Source.Coordinator.RecoverAsync());
            Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
            Assert.Contains("rolled forward", healed.Decision, StringComparison.Ordinal);
            OwnershipRecord record = (await Registries.For("observer.test").GetAsync(TwoHosts.VmId))!;
            Assert.Equal((hosts.Destination.Id, 2L), (record.Owner, record.Epoch));
        }
        finally
        {
            foreach (PartitionableLink link in links)
            {
                await link.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A host cut off from every member for several timeouts reaches etcd within one timeout once the partition heals: gRPC's
    /// own wait between reconnection attempts (growing to minutes by default) must not outlast the registry's timeout, or a
    /// host in doubt stays cut off long after the network came back.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task HostCutOffForSeveralTimeouts_ReachesEtcdWithinOneTimeoutOnceHealed()
    {
        PartitionableLink[] links = [.. Fixture.Cluster.ClientEndPoints.Select(e => new PartitionableLink(e))];
        try
        {
            using EtcdOwnershipRegistry registry = Registries.For("source.test", TimeSpan.FromSeconds(2), links);
            Assert.Null(await registry.GetHeadAsync("partition-journal"));
            foreach (PartitionableLink link in links)
            {
                link.Partition();
            }

            for (int attempt = 0; attempt < 7; attempt++)
            {
                await Assert.ThrowsAsync<EtcdUnavailableException>(async () => await registry.GetHeadAsync("partition-journal"));
            }

            foreach (PartitionableLink link in links)
            {
                link.Heal();
            }

            Assert.Null(await registry.GetHeadAsync("partition-journal"));
        }
        finally
        {
            foreach (PartitionableLink link in links)
            {
                await link.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A move's transaction is applied, its answer is lost with the member's connection, and another host moves the record on
    /// before the host reaches etcd again: the repeat finds the record moved on and cannot tell whether its first attempt
    /// applied, so the move's outcome is unknown, never "not moved". A retry hidden below the registry (the client library's
    /// default policy) answered "not moved" here.
    /// </summary>
    [RequiresProgramFact("etcd")]
    public async Task MoveAppliedAnswerLost_RecordMovedOnBeforeTheRepeat_OutcomeIsUnknown()
    {
        // One member, one connection: the bytes etcd sends once the transaction is applied are its answer.
        await using var link = new PartitionableLink(Fixture.Cluster.ClientEndPoints.First());
        EtcdOwnershipRegistry other = Registries.For("h1.test");
        OwnershipRecord start = await Registries.For("h0.test").RegisterAsync("lost-answer", "h0.test");
        var migration = Guid.NewGuid();
        int armed = 0;
        var movedOn = new TaskCompletionSource<OwnershipRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task OtherHostMovesOn()
        {
            link.Partition();
            try
            {
                OwnershipRecord applied = (await other.GetAsync("lost-answer"))!;
                await other.TryMoveAsync("lost-answer", applied.Epoch, "h0.test", "h1.test", Guid.NewGuid());
                movedOn.SetResult(applied);
            }
            catch (Exception e)
            {
                movedOn.SetException(e);
            }

            link.Heal();
        }

        var faults = new TransactionFaultInterceptor(_ =>
        {
            if (Interlocked.Exchange(ref armed, 1) == 0)
            {
                link.LoseAnswer(async () => (await other.GetAsync("lost-answer"))!.MigrationId == migration, OtherHostMovesOn);
            }

            return TransactionFault.None;
        });
        EtcdOwnershipRegistry host = Registries.For("h0.test", TimeSpan.FromSeconds(10), [link], faults);
        Assert.Equal(start.Epoch, (await host.GetAsync("lost-answer"))!.Epoch);

        Task<OwnershipMove> move = host.TryMoveAsync("lost-answer", start.Epoch, "h0.test", "h0.test", migration).AsTask();

        // The answer lost was that of an applied move, and the record moved on from it while the host was cut off.
        OwnershipRecord applied = await movedOn.Task;
        Assert.Equal((start.Epoch + 1, migration), (applied.Epoch, applied.MigrationId));
        Assert.Equal("h1.test", (await other.GetAsync("lost-answer"))!.Owner);
        await Assert.ThrowsAsync<EtcdUnavailableException>(() => move);
    }
}
