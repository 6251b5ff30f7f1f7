using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Coordination.Crashes;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>When the source cannot reach the registry, it never guesses: before the commit request it may resume, after it it
/// waits.</summary>
public sealed class RegistryOutageTests
{
    [Fact]
    public async Task MigrateAsync_RegistryUnreachableAfterTheCommitRequest_KeepsTheSourcePausedUntilRecoveryCanAsk()
    {
        UnreachableRegistry? outage = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceRegistry: registry => outage = new UnreachableRegistry(registry));

        var doubt = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

        Assert.Equal(TwoHosts.VmId, doubt.VmId);
        Assert.True((await hosts.LastDestination)!.IsCommitted);
        Assert.Equal(VmRunState.Paused, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.Equal(VmRunState.Running, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
        Assert.Contains(await hosts.Source.Coordinator.RecoverAsync(), r => r.To == MigrationPhase.SwitchingOver &&
            r.Decision.StartsWith("left in doubt", StringComparison.Ordinal));

        outage!.Down = false;
        IReadOnlyList<RecoveredMigration> recovered = await hosts.Source.Coordinator.RecoverAsync();

        Assert.Equal(MigrationPhase.Completed, Assert.Single(recovered).To);
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    /// <summary>A long-running host recovers the one migration that ended in doubt, without a restart, once the registry answers.
    /// </summary>
    [Fact]
    public async Task RecoverAsync_OneMigrationInDoubtOnARunningHost_FinishesItOnceTheRegistryAnswers()
    {
        UnreachableRegistry? outage = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceRegistry: registry => outage = new UnreachableRegistry(registry));
        var doubt = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

        RecoveredMigration? stillDown = await hosts.Source.Coordinator.RecoverAsync(doubt.MigrationId);
        outage!.Down = false;
        RecoveredMigration? recovered = await hosts.Source.Coordinator.RecoverAsync(doubt.MigrationId);
        RecoveredMigration? again = await hosts.Source.Coordinator.RecoverAsync(doubt.MigrationId);

        Assert.Equal(MigrationPhase.SwitchingOver, stillDown!.To);
        Assert.Equal(MigrationPhase.Completed, recovered!.To);
        Assert.Null(again);
        Assert.Null(await hosts.Source.Coordinator.RecoverAsync(Guid.NewGuid()));
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    /// <summary>
    /// The destination's commit is applied but its answer lost: the destination must not destroy its copy on an error
    /// whose outcome it does not know, since the source, asking the registry, finds the destination owns the VM and
    /// discards its own (it did, before: both copies gone). It stays in doubt, paused, and recovery rolls it forward.
    /// </summary>
    [Fact]
    public async Task MigrateAsync_CommitAppliedButItsAnswerLost_TheDestinationKeepsItsCopy_AndRecoveryRunsIt()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationRegistry: registry => new AnswerLostRegistry(registry));

        await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

        Assert.NotEqual(VmRunState.Stopped, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
        await hosts.RestartBothAsync();
        await hosts.Source.Coordinator.RecoverAsync();
        await hosts.Destination.Coordinator.RecoverAsync();
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task MigrateAsync_RegistryUnreachableBeforeTheCommitRequest_ResumesTheSource()
    {
        var options = new CoordinatorOptions();
        options.PreMigrateHooks.Add(new DelegateHook("veto", (_, _) => Task.FromResult(HookVerdict.Veto("not today"))));
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceOptions: options,
            sourceRegistry: registry => new UnreachableRegistry(registry));

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(VmRunState.Running, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
    }

    /// <summary>
    /// A destination that crashed right after taking the epoch, restarted with a registry that does not know the VM
    /// (another --registry): it must not roll back on that registry's word, since the source, asking the shared one,
    /// rolls forward and quits its copy. It stays in doubt, paused, until it recovers with the shared registry.
    /// </summary>
    [Fact]
    public async Task RecoverAsync_DestinationWithARegistryThatDoesNotKnowTheVm_StaysInDoubtAndKeepsItsCopy()
    {
        var crash = new CrashPlan(CrashSteps.DestinationTookTheEpoch);
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationCrash: crash);
        (_, Exception? destinationEnd) = await hosts.MigrateThroughCrashesAsync();
        Assert.Same(crash.Crash, destinationEnd);
        using var elsewhere = new TempDirectory();
        await hosts.RestartDestinationAsync(new FileOwnershipRegistry(elsewhere.Path));

        RecoveredMigration wrong = Assert.Single(await hosts.Destination.Coordinator.RecoverAsync());

        Assert.StartsWith("left in doubt: the ownership registry does not know the VM", wrong.Decision, StringComparison.Ordinal);
        Assert.Equal(MigrationPhase.SwitchingOver, wrong.To);
        Assert.Equal(VmRunState.Paused, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
        await hosts.RestartBothAsync();
        await hosts.Source.Coordinator.RecoverAsync();
        Assert.Equal(MigrationPhase.Completed, Assert.Single(await hosts.Destination.Coordinator.RecoverAsync()).To);
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
    }
}
