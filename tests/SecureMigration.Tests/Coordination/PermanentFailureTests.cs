using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A typo must cost seconds (issue 16): a failure no retry can heal ends the attempt, says so, and counts toward no
/// breaker or backoff, so the corrected call runs at once; a passing failure still counts, as the thrash defense wants.
/// </summary>
public sealed class PermanentFailureTests
{
    [Theory]
    [InlineData(HandshakeFailureReason.NameMismatch)]
    [InlineData(HandshakeFailureReason.UntrustedChain)]
    [InlineData(HandshakeFailureReason.TicketRefused)]
    [InlineData(HandshakeFailureReason.Revoked)]
    public async Task MigrateAsync_PermanentHandshakeFailures_AreNotCountedAndTheNextCallIsAdmitted(HandshakeFailureReason reason)
    {
        MigrationResult[] results = await FailFiveTimesAsync(new HandshakeFailedException(reason, $"failed: {reason}"));

        Assert.All(results, result =>
        {
            Assert.Equal(MigrationStatus.RolledBack, result.Status);
            Assert.True(result.IsPermanent);
        });
    }

    [Fact]
    public async Task MigrateAsync_UnresolvableName_IsPermanent()
    {
        var unknownHost = new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound);
        MigrationResult[] results = await FailFiveTimesAsync(unknownHost);

        Assert.All(results, result => Assert.True(result.IsPermanent));
    }

    [Theory]
    [InlineData(HandshakeFailureReason.Timeout)]
    [InlineData(HandshakeFailureReason.DestinationBusy)]
    public async Task MigrateAsync_PassingFailures_StillOpenTheBreaker(HandshakeFailureReason reason)
    {
        MigrationResult[] results = await FailFiveTimesAsync(new HandshakeFailedException(reason, $"failed: {reason}"));

        Assert.False(results[0].IsPermanent);
        Assert.Contains(results, result => result.Status == MigrationStatus.Refused && result.Denial is AdmissionDenialReason.Backoff or
            AdmissionDenialReason.CircuitOpen);
    }

    /// <summary>Five manual calls in a row, each failing in the channel with <paramref name="failure"/>, on a fixed clock.</summary>
    private static async Task<MigrationResult[]> FailFiveTimesAsync(Exception failure)
    {
        using var dir = new TempDirectory();
        var registry = new FileOwnershipRegistry(dir.File("registry"));
        // A clock that never moves: a backoff or an open breaker, once set, denies every later call.
        var admission = new AdmissionController(new AdmissionOptions { MinDwellTime = TimeSpan.Zero }, new FakeTimeProvider());
        await using TestHost host = TestHost.Create("source.test", dir.File("source"), registry, admission: admission);
        await host.Driver.CreateVmAsync("vm-1", 1024 * 1024);
        await registry.RegisterAsync("vm-1", host.Id);
        var results = new MigrationResult[5];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = await host.Coordinator.MigrateAsync("vm-1", "destination.test", (_,
                _) => Task.FromException<MigrationConnection>(failure));
            Assert.Equal(VmRunState.Running, (await host.Driver.QueryAsync("vm-1")).State);
        }

        return results;
    }
}
