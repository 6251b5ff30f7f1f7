using CsCheck;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>
/// Crash either host (or both) at any step of a migration, restart, recover in either order, recover again (a destination
/// that waited for its source settles then): there is always exactly one owner and exactly one runnable copy, on the owner,
/// and a third recovery changes nothing.
/// </summary>
public sealed class RecoveryPropertyTests
{
    /// <summary>A crash of the source alone, of the destination alone, or of both, each at a step its host reaches.</summary>
    private static readonly Gen<CrashPoints> AnyReachableCrash = Gen.OneOf(
        Gen.Int[1, CrashSteps.Source].Select(source => new CrashPoints(source, null)),
        Gen.Int[1, CrashSteps.Destination].Select(destination => new CrashPoints(null, destination)),
        Gen.Select(Gen.Int[1, CrashSteps.Source], Gen.Int[1, CrashSteps.Destination])
            .Where(both => CrashSteps.BothReached(both.Item1, both.Item2))
            .Select(both => new CrashPoints(both.Item1, both.Item2)));

    // The planned crashes end runs, not these timeouts; at 400 ms a loaded machine let the destination's commit timeout
    // fire before the source's planned crash, so the destination rolled back before reaching its own planned step.
    private static CoordinatorOptions Fast() => new() { StallTimeout = TimeSpan.FromSeconds(2), CommitTimeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public void RecoverAsync_AfterACrashAtAnyStep_LeavesExactlyOneOwnerAndOneRunnableCopy()
    {
        Gen.Select(AnyReachableCrash, Gen.Bool).Sample(
            (crash, destinationFirst) => RunAsync(crash, destinationFirst).GetAwaiter().GetResult(),
            iter: 24, threads: 1, seed: "0N0XIzNsQ0O2");
    }

    /// <summary>Crashes just before and after each host's step around the commit (see <see cref="CrashSteps"/>); a host without a step does
    /// not crash.</summary>
    [Theory]
    [InlineData(9, null, "Completed")]
    [InlineData(10, null, "Completed")]
    [InlineData(null, 10, "RolledBack")]
    [InlineData(null, 11, "Completed")]
    [InlineData(9, 11, "Completed")]
    [InlineData(5, 6, "RolledBack")]
    public async Task RecoverAsync_CrashAroundTheCommit_IsResolvedByTheRegistry(int? sourceStep, int? destinationStep, string end)
    {
        string owner = await RunAsync(new CrashPoints(sourceStep, destinationStep), destinationFirst: false);

        Assert.Equal(end == "Completed" ? "destination.test" : "source.test", owner);
    }

    /// <summary>
    /// Both crash around the commit, the source after asking for it and before taking the epoch back, the destination
    /// before taking it: the registry still shows the source at the old epoch. Recovered first, the destination must not
    /// destroy its copy on that, since a commit it sent before the crash could still be applied by a consensus store; it waits
    /// in doubt, paused, until the source's recovery has taken the epoch back, and then rolls back.
    /// </summary>
    [Fact]
    public async Task RecoverAsync_DestinationFirstWhileTheSourceStillHoldsTheEpoch_KeepsItsCopyUntilTheSourceSettles()
    {
        await using TwoHosts hosts = await CrashAndRestartAsync(new CrashPoints(9, CrashSteps.DestinationTookTheEpoch - 1));

        RecoveredMigration waiting = Assert.Single(await hosts.Destination.Coordinator.RecoverAsync());

        Assert.StartsWith("left in doubt: the registry still shows 'source.test' holds epoch 1", waiting.Decision,
            StringComparison.Ordinal);
        Assert.Equal(VmRunState.Paused, (await hosts.Destination.Driver.QueryAsync(TwoHosts.VmId)).State);
        await hosts.Source.Coordinator.RecoverAsync();
        Assert.Equal(MigrationPhase.RolledBack, Assert.Single(await hosts.Destination.Coordinator.RecoverAsync()).To);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    /// <summary>Migrates, crashing each host at its planned step, checks both died of that crash, then recovers twice.</summary>
    private static async Task<string> RunAsync(CrashPoints crash, bool destinationFirst)
    {
        await using TwoHosts hosts = await CrashAndRestartAsync(crash);
        TestHost first = destinationFirst ? hosts.Destination : hosts.Source;
        TestHost second = destinationFirst ? hosts.Source : hosts.Destination;
        await first.Coordinator.RecoverAsync();
        await second.Coordinator.RecoverAsync();
        await first.Coordinator.RecoverAsync();

        string owner = await hosts.AssertOneRunnableCopyAsync();
        Assert.Empty(await hosts.Source.Coordinator.RecoverAsync());
        Assert.Empty(await hosts.Destination.Coordinator.RecoverAsync());
        Assert.Equal(owner, await hosts.AssertOneRunnableCopyAsync());
        return owner;
    }

    /// <summary>Migrates, crashing each host at its planned step, checks both died of that crash, and restarts both.</summary>
    private static async Task<TwoHosts> CrashAndRestartAsync(CrashPoints crash)
    {
        CrashPlan? sourceCrash = crash.Source is int sourceStep ? new CrashPlan(sourceStep) : null;
        CrashPlan? destinationCrash = crash.Destination is int destinationStep ? new CrashPlan(destinationStep) : null;
        TwoHosts hosts = await TwoHosts.CreateAsync(Fast(), Fast(), sourceCrash: sourceCrash, destinationCrash: destinationCrash);
        try
        {
            (Exception? sourceEnd, Exception? destinationEnd) = await hosts.MigrateThroughCrashesAsync();
            AssertEndedByItsPlannedCrash("source", sourceCrash, sourceEnd);
            AssertEndedByItsPlannedCrash("destination", destinationCrash, destinationEnd);
            await hosts.RestartBothAsync();
            return hosts;
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }
    }

    /// <summary>A host with a crash planned reached it, and its run ended by that very crash, not normally nor by another error.</summary>
    private static void AssertEndedByItsPlannedCrash(string host, CrashPlan? plan, Exception? end)
    {
        if (plan is not null)
        {
            Assert.True(plan.Crash is not null, $"the {host} never reached its planned crash; it took {plan.Steps} steps");
            Assert.Same(plan.Crash, end);
        }
    }

    /// <summary>The step at which each host crashes; <see langword="null"/> for a host that does not.</summary>
    private sealed record CrashPoints(int? Source, int? Destination);
}
