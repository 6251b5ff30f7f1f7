using CsCheck;
using SecureMigration.Coordination;

namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>
/// Crash either host (or both) at any step of a migration, restart, recover in either order, recover again: there is
/// always exactly one owner and exactly one runnable copy, on the owner, and the second recovery changes nothing.
/// </summary>
public sealed class RecoveryPropertyTests
{
    private static CoordinatorOptions Fast() => new() { StallTimeout = TimeSpan.FromMilliseconds(400), CommitTimeout = TimeSpan.FromMilliseconds(400) };

    [Fact]
    public void RecoverAsync_AfterACrashAtAnyStep_LeavesExactlyOneOwnerAndOneRunnableCopy()
    {
        Gen.Select(Gen.Int[0, 2], Gen.Int[1, 16], Gen.Int[1, 17], Gen.Bool).Sample(
            (who, sourceStep, destinationStep, destinationFirst) => RunAsync(who, sourceStep, destinationStep, destinationFirst).GetAwaiter().GetResult(),
            iter: 24, threads: 1, seed: "0N0XIzNsQ0O2");
    }

    /// <summary>
    /// A source has 15 steps (its 9th is just before its reclaim attempt, after the commit request), a destination 16
    /// (its 10th is just before it takes the epoch, its 11th just after).
    /// </summary>
    [Theory]
    [InlineData(0, 9, 0, "Completed")]
    [InlineData(0, 10, 0, "Completed")]
    [InlineData(1, 0, 10, "RolledBack")]
    [InlineData(1, 0, 11, "Completed")]
    [InlineData(2, 9, 11, "Completed")]
    [InlineData(2, 5, 6, "RolledBack")]
    public async Task RecoverAsync_CrashAroundTheCommit_IsResolvedByTheRegistry(int who, int sourceStep, int destinationStep, string end)
    {
        string owner = await RunAsync(who, sourceStep, destinationStep, destinationFirst: false, expectCrash: true);

        Assert.Equal(end == "Completed" ? "destination.test" : "source.test", owner);
    }

    private static async Task<string> RunAsync(int who, int sourceStep, int destinationStep, bool destinationFirst, bool expectCrash = false)
    {
        CrashPlan? sourceCrash = who is 0 or 2 ? new CrashPlan(sourceStep) : null;
        CrashPlan? destinationCrash = who is 1 or 2 ? new CrashPlan(destinationStep) : null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(Fast(), Fast(), sourceCrash: sourceCrash, destinationCrash: destinationCrash);

        await hosts.MigrateThroughCrashesAsync();
        if (expectCrash)
        {
            Assert.True((sourceCrash?.Crashed ?? true) && (destinationCrash?.Crashed ?? true), "the planned crash happened");
        }

        await hosts.RestartBothAsync();
        MigrationHost first = destinationFirst ? hosts.Destination : hosts.Source;
        MigrationHost second = destinationFirst ? hosts.Source : hosts.Destination;
        await first.Coordinator.RecoverAsync();
        await second.Coordinator.RecoverAsync();

        string owner = await hosts.AssertOneRunnableCopyAsync();
        Assert.Empty(await hosts.Source.Coordinator.RecoverAsync());
        Assert.Empty(await hosts.Destination.Coordinator.RecoverAsync());
        Assert.Equal(owner, await hosts.AssertOneRunnableCopyAsync());
        return owner;
    }
}
