using SecureMigration.Cli;
using SecureMigration.Cli.Control;
using SecureMigration.Cli.Live;

namespace SecureMigration.Tests.Cli;

/// <summary>A migration of the agent's control API ends, whatever its run throws, and can be cancelled after it ended.</summary>
public sealed class OutgoingMigrationTests
{
    private static readonly MigrationRequest Request = new("vm1", "127.0.0.1:4443", "dst.test", 0);

    [Fact]
    public async Task RunAsync_AnExceptionNoOutcomeIsMadeOf_StillEndsTheMigrationAsAFailure()
    {
        using var stopping = new CancellationTokenSource();
        var migration = new OutgoingMigration(Request, TimeProvider.System, stopping.Token);

        await Assert.ThrowsAsync<OutOfMemoryException>(() => migration.RunAsync(_ => throw new OutOfMemoryException(),
            _ => throw new InvalidOperationException("not for out of memory")));

        Assert.NotNull(migration.Outcome);
        Assert.Equal(("Failed", ExitCodes.Failure), (migration.Outcome.Status, migration.Outcome.ExitCode));
        MigrationView view = await migration.ViewAsync(0, TimeSpan.Zero, CancellationToken.None);
        Assert.Equal("Failed", view.Status);
        Assert.StartsWith("secmig: the agent's run of this migration ended unexpectedly", Assert.Single(view.Lines),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FailedThatThrowsItself_StillEndsTheMigration()
    {
        using var stopping = new CancellationTokenSource();
        var migration = new OutgoingMigration(Request, TimeProvider.System, stopping.Token);

        await Assert.ThrowsAsync<InvalidOperationException>(() => migration.RunAsync(_ => throw new IOException("lost"),
            _ => throw new InvalidOperationException("a bug in the mapping")));

        Assert.Equal("Failed", migration.Outcome?.Status);
    }

    [Fact]
    public async Task Cancel_AfterTheMigrationEnded_DoesNothing_AndTheAgentStoppingNoLongerReachesIt()
    {
        using var stopping = new CancellationTokenSource();
        var migration = new OutgoingMigration(Request, TimeProvider.System, stopping.Token);
        var outcome = new MigrateOutcome("vm1", Guid.NewGuid(), "Completed", null, 1, 0, ExitCodes.Success, null);
        await migration.RunAsync(_ => Task.FromResult(outcome), e => throw e);

        migration.Cancel();
        await stopping.CancelAsync();

        Assert.Same(outcome, migration.Outcome);
        Assert.False(migration.Token.IsCancellationRequested, "the ended migration's source was disposed and unlinked");
    }

    [Fact]
    public async Task Cancel_WhileItRuns_CancelsItsToken()
    {
        using var stopping = new CancellationTokenSource();
        var migration = new OutgoingMigration(Request, TimeProvider.System, stopping.Token);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task running = migration.RunAsync(async token =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            return null!;
        }, e => new MigrateOutcome("vm1", Guid.Empty, "Failed", e.GetType().Name, 0, 0, ExitCodes.Interrupted, null));
        await started.Task;
        migration.Cancel();
        await running;

        Assert.Equal(ExitCodes.Interrupted, migration.Outcome?.ExitCode);
    }
}
