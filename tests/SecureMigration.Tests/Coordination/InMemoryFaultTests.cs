using Microsoft.Extensions.Time.Testing;
using SecureMigration.Coordination;
using SecureMigration.Testing.InMemory;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Faults on an in-memory connection between a source and a destination coordinator: no socket and no TLS, so each
/// test sees the coordinator's own defenses (the wire's framing, the XXH128 stream digest, the stall watchdog on the
/// injected clock) and nothing the channel below would have caught first.
/// </summary>
public sealed class InMemoryFaultTests
{
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A guard against a hung test, not a wait: every test ends on its own long before it.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    /// <summary>Inside the first data frame: its header is the stream's first 5 bytes.</summary>
    private const long InsideTheFirstFrame = 100_000;

    [Fact]
    public async Task Migrate_CleanConnection_CompletesWithExactlyOneRunnableCopy()
    {
        (TwoHosts hosts, FakeTimeProvider time) = await CreateAsync();
        await using (hosts)
        {
            (MigrationResult source, MigrationResult? destination) = await RunAsync(hosts, new FaultInjectingPipe(WireFault.None), time);

            Assert.Equal(MigrationStatus.Completed, source.Status);
            Assert.Equal(MigrationStatus.Completed, destination!.Status);
            Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
        }
    }

    [Fact]
    public async Task Migrate_StreamTruncatedInsideAFrame_RollsBackOnBothSides()
    {
        (_, MigrationResult destination) = await RollsBackOnBothSidesAsync(WireFault.TruncateAt(InsideTheFirstFrame));

        Assert.Equal("the channel ended inside a frame", destination.Reason);
    }

    [Fact]
    public async Task Migrate_FlippedByteInTheData_IsCaughtByTheDigestAndRollsBack()
    {
        (MigrationResult source, MigrationResult destination) = await RollsBackOnBothSidesAsync(WireFault.FlipByteAt(InsideTheFirstFrame));

        // No record layer here: the end-to-end XXH128 digest is what catches it, with every byte received.
        Assert.StartsWith("the stream's digest does not match: received ", destination.Reason, StringComparison.Ordinal);
        Assert.Contains("the peer aborted: the stream's digest does not match", source.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_StreamStallsInsideAFrame_TheWatchdogEndsItOnTheInjectedClock()
    {
        (TwoHosts hosts, FakeTimeProvider time) = await CreateAsync();
        await using (hosts)
        {
            var link = new FaultInjectingPipe(WireFault.StallAt(InsideTheFirstFrame));
            (Task<MigrationResult> sourceTask, Task<MigrationResult?> destinationTask) = hosts.StartInMemory(link, time);

            // The destination now waits on a read that only its watchdog can end; nothing moves until the clock does.
            await link.ReaderStalled.WaitAsync(HangGuard);
            Assert.False(destinationTask.IsCompleted);
            time.Advance(StallTimeout);

            MigrationResult destination = (await destinationTask.WaitAsync(HangGuard))!;
            MigrationResult source = await sourceTask.WaitAsync(HangGuard);
            Assert.Equal(MigrationStatus.RolledBack, destination.Status);
            Assert.Equal("nothing moved for 30 s while receiving the migration stream", destination.Reason);
            Assert.Equal(MigrationStatus.RolledBack, source.Status);
            Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
        }
    }

    /// <summary>Runs a migration through <paramref name="fault"/> and asserts both sides rolled back to the source's one copy.</summary>
    private static async Task<(MigrationResult Source, MigrationResult Destination)> RollsBackOnBothSidesAsync(WireFault fault)
    {
        (TwoHosts hosts, FakeTimeProvider time) = await CreateAsync();
        await using (hosts)
        {
            (MigrationResult source, MigrationResult? destination) = await RunAsync(hosts, new FaultInjectingPipe(fault), time);

            Assert.Equal(MigrationStatus.RolledBack, source.Status);
            Assert.Equal(MigrationStatus.RolledBack, destination!.Status);
            Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
            return (source, destination);
        }
    }

    private static async Task<(TwoHosts Hosts, FakeTimeProvider Time)> CreateAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        TwoHosts hosts = await TwoHosts.CreateAsync(Options(time), Options(time));
        return (hosts, time);
    }

    private static CoordinatorOptions Options(TimeProvider time) => new() { TimeProvider = time, StallTimeout = StallTimeout };

    private static async Task<(MigrationResult Source, MigrationResult? Destination)> RunAsync(TwoHosts hosts, FaultInjectingPipe link,
        TimeProvider time)
    {
        (Task<MigrationResult> source, Task<MigrationResult?> destination) = hosts.StartInMemory(link, time);
        return (await source.WaitAsync(HangGuard), await destination.WaitAsync(HangGuard));
    }
}
