using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Cli.Agent;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Cli;

/// <summary>A running agent retries the recovery of a migration that ended in doubt, waiting longer each time, until the registry
/// decides it; it stops retrying when the agent stops.</summary>
public sealed class InDoubtRecoveryTests
{
    private static readonly Guid Migration = Guid.Parse("5a1e0000-0000-4000-8000-000000000001");

    private static RecoveredMigration Outcome(MigrationPhase to, string decision) =>
        new(Migration, "vm1", MigrationRole.Source, MigrationPhase.SwitchingOver, to, decision);

    [Fact]
    public async Task Add_RetriesWithLongerWaits_UntilTheRegistryDecides_AndSaysEachAttempt()
    {
        var time = new FakeTimeProvider();
        var attempts = System.Threading.Channels.Channel.CreateUnbounded<TaskCompletionSource<RecoveredMigration?>>();
        var lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await using var recovery = new InDoubtRecovery(async (id, _) =>
        {
            Assert.Equal(Migration, id);
            var answer = new TaskCompletionSource<RecoveredMigration?>(TaskCreationOptions.RunContinuationsAsynchronously);
            await attempts.Writer.WriteAsync(answer);
            return await answer.Task;
        }, time, line => lines.Writer.TryWrite(line));

        recovery.Add(Migration, "vm1");
        recovery.Add(Migration, "vm1");
        (TaskCompletionSource<RecoveredMigration?> first, TimeSpan firstWait) = AdvanceUntilAttempt(time, attempts.Reader);
        first.SetResult(Outcome(MigrationPhase.SwitchingOver, "left in doubt: the registry is out of reach"));
        string retrying = await lines.Reader.ReadAsync();
        (TaskCompletionSource<RecoveredMigration?> second, TimeSpan secondWait) = AdvanceUntilAttempt(time, attempts.Reader);
        second.SetResult(Outcome(MigrationPhase.Completed, "the registry shows the destination took the epoch: rolled forward"));
        string recovered = await lines.Reader.ReadAsync();

        Assert.Equal($"in doubt vm1 {Migration:D}: left in doubt: the registry is out of reach; trying again in 10 s", retrying);
        Assert.True(firstWait >= InDoubtRecovery.FirstWait, $"the first attempt came after {firstWait}");
        Assert.True(secondWait >= 2 * InDoubtRecovery.FirstWait, $"the second attempt came after {secondWait}");
        Assert.StartsWith($"recovered vm1 {Migration:D} Source SwitchingOver -> Completed: the registry shows", recovered,
            StringComparison.Ordinal);
        Assert.False(attempts.Reader.TryRead(out _), "one recovery for the migration, added twice");
    }

    [Fact]
    public async Task DisposeAsync_StopsTheRetries()
    {
        var time = new FakeTimeProvider();
        int attempts = 0;
        var recovery = new InDoubtRecovery((_, _) =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromResult<RecoveredMigration?>(null);
        }, time, _ => { });
        recovery.Add(Migration, "vm1");

        await recovery.DisposeAsync();
        time.Advance(InDoubtRecovery.LongestWait);
        recovery.Add(Migration, "vm1");
        time.Advance(InDoubtRecovery.LongestWait);

        Assert.Equal(0, Volatile.Read(ref attempts));
    }

    /// <summary>Moves the clock a second at a time until the recovery asks again; returns the attempt and how far the clock moved
    /// (at least the wait: a wait registered after a move starts from there).</summary>
    private static (TaskCompletionSource<RecoveredMigration?> Attempt, TimeSpan Advanced) AdvanceUntilAttempt(FakeTimeProvider time,
        ChannelReader<TaskCompletionSource<RecoveredMigration?>> attempts)
    {
        TimeSpan advanced = TimeSpan.Zero;
        TaskCompletionSource<RecoveredMigration?>? attempt;
        while (!attempts.TryRead(out attempt))
        {
            Assert.True(advanced < TimeSpan.FromHours(1), "the recovery never asked again");
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
            Thread.Yield();
        }

        return (attempt, advanced);
    }
}
