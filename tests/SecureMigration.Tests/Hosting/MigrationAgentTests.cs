using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Hosting;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Hosting;

public sealed class MigrationAgentTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _clock = new();
    private readonly CountingAdmissionStore _store = new();

    public void Dispose() => _directory.Dispose();

    private async Task<(MigrationHost Host, SimulatedHypervisor Driver)> SourceAsync()
    {
        var driver = new SimulatedHypervisor(_directory.File("vms"));
        MigrationHost host = await new MigrationHostBuilder("source.test")
            .UseTimeProvider(_clock)
            .UseHostKey(_directory.File("host.key"))
            .UseJournal(_directory.File("journal.smj"))
            .UseAudit(_directory.File("audit.log"))
            .UseOwnershipRegistry(new FileOwnershipRegistry(_directory.File("registry")))
            .UseDriver(driver, disposeWithHost: true)
            .UseAdmission(new AdmissionOptions { MinDwellTime = TimeSpan.Zero }, _store)
            .BuildAsync();
        await driver.CreateVmAsync("vm-1", 1 << 16);
        await host.Registry.RegisterAsync("vm-1", host.HostId);
        return (host, driver);
    }

    [Fact]
    public async Task MigrateAsync_ARetryInsideTheBackoff_WaitsItOutOnTheHostClock_AndSavesAdmissionAfterEveryAttempt()
    {
        (MigrationHost host, _) = await SourceAsync();
        await using MigrationHost owned = host;
        var agent = new MigrationAgent(host, new MigrationAgentOptions { MaxRetries = 1 });
        var retries = new List<MigrationRetry>();
        var backingOff = new TaskCompletionSource<MigrationRetry>(TaskCreationOptions.RunContinuationsAsynchronously);
        agent.Retrying += (_, retry) =>
        {
            retries.Add(retry);
            if (retry.IsBackoff)
            {
                backingOff.TrySetResult(retry);
            }
        };
        int connects = 0;
        DateTimeOffset start = _clock.GetUtcNow();

        Task<SourceMigration> migrating = agent.MigrateAsync("vm-1", "destination.test", (_, _) =>
        {
            connects++;
            return Task.FromException<MigrationConnection>(new IOException("the destination is down"));
        });
        // The clock stands still until the agent says it backs off: the retry must have been denied for backoff.
        MigrationRetry backoff = await backingOff.Task;
        while (!migrating.IsCompleted)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Yield();
        }

        SourceMigration outcome = await migrating;
        Assert.True(backoff.Wait > TimeSpan.Zero, $"The backoff waits {backoff.Wait}.");
        Assert.Equal(1, outcome.Retried);
        Assert.Equal(2, connects);
        Assert.True(_clock.GetUtcNow() - start >= backoff.Wait, "The second attempt ran before the backoff ended.");
        Assert.Collection(retries, r => Assert.Equal(1, r.Attempt), r => Assert.True(r.IsBackoff));
        // Three calls to the coordinator (failed, denied for backoff, failed): the state is saved after each.
        Assert.Equal(3, _store.Saves);
    }

    [Fact]
    public async Task MigrateAsync_APermanentFailure_IsNotRetried()
    {
        (MigrationHost host, _) = await SourceAsync();
        await using MigrationHost owned = host;
        var agent = new MigrationAgent(host, new MigrationAgentOptions { MaxRetries = 3 });
        int connects = 0;

        SourceMigration outcome = await agent.MigrateAsync("vm-1", "destination.test", (_, _) =>
        {
            connects++;
            return Task.FromException<MigrationConnection>(new HandshakeFailedException(HandshakeFailureReason.NameMismatch, "wrong name"));
        });

        Assert.True(outcome.Result.IsPermanent);
        Assert.Equal(0, outcome.Retried);
        Assert.Equal(1, connects);
    }

    [Fact]
    public void Options_OutOfRange_AreRefusedWithTheirName()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() =>
            new MigrationAgentOptions { MaxConcurrentReceives = 0 }.Validate());

        Assert.Contains("MaxConcurrentReceives", error.Message, StringComparison.Ordinal);
    }
}
