using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Hosting;
using SecureMigration.Testing.InMemory;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Hosting;

/// <summary>The agent's serving loop on in-memory connections: bounded concurrency, admission saved per migration, a clean stop.</summary>
public sealed class MigrationAgentServeTests : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan DestinationStall = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly InMemoryOwnershipRegistry _registry;
    private readonly Channel<MigrationConnection> _arrivals = System.Threading.Channels.Channel.CreateUnbounded<MigrationConnection>();

    public MigrationAgentServeTests() => _registry = new InMemoryOwnershipRegistry(_clock);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task RunAsync_OneSlot_AcceptsTheNextPeerOnlyWhenTheFirstMigrationEnds_AndSavesAdmissionAfterEach()
    {
        var store = new CountingAdmissionStore();
        await using MigrationHost destination = await Host("destination.mem", DestinationStall)
            .UseAdmission(new AdmissionOptions(), store).BuildAsync();
        await using MigrationHost first = await SourceAsync("source-a.mem", "vm-a");
        await using MigrationHost second = await SourceAsync("source-b.mem", "vm-b");
        var agent = new MigrationAgent(destination, new MigrationAgentOptions { MaxConcurrentReceives = 1 });
        var ended = new List<IncomingMigrationEnded>();
        agent.MigrationEnded += (_, e) => { lock (ended) { ended.Add(e); } };
        int accepts = 0;
        using var stop = new CancellationTokenSource();
        Task serving = agent.RunAsync(async token =>
        {
            Interlocked.Increment(ref accepts);
            return await _arrivals.Reader.ReadAsync(token);
        }, cancellationToken: stop.Token);

        // The first migration stalls inside its stream: it holds the only slot until the destination's watchdog fires.
        var stalled = new FaultInjectingPipe(WireFault.StallAt(100_000));
        Task<MigrationResult> a = Migrate(first, "vm-a", destination.HostId, stalled);
        await stalled.ReaderStalled.WaitAsync(HangGuard);
        Task<MigrationResult> b = Migrate(second, "vm-b", destination.HostId, new FaultInjectingPipe(WireFault.None));

        Assert.Equal(1, Volatile.Read(ref accepts));
        Assert.False(b.IsCompleted);

        _clock.Advance(DestinationStall);
        Assert.Equal(MigrationStatus.RolledBack, (await a.WaitAsync(HangGuard)).Status);
        MigrationResult waited = await b.WaitAsync(HangGuard);
        Assert.True(waited.Status == MigrationStatus.Completed, waited.Reason);

        stop.Cancel();
        await serving.WaitAsync(HangGuard);
        Assert.Equal("destination.mem", (await _registry.GetAsync("vm-b"))!.Owner);
        Assert.Equal("source-a.mem", (await _registry.GetAsync("vm-a"))!.Owner);
        Assert.Equal(2, ended.Count);
        Assert.Equal(2, store.Saves);
    }

    private Task<MigrationResult> Migrate(MigrationHost source, string vmId, string destination, FaultInjectingPipe link) =>
        source.Coordinator.MigrateAsync(vmId, destination, async (ticket, token) =>
        {
            (InMemoryMigrationConnection sourceEnd, InMemoryMigrationConnection destinationEnd) =
                InMemoryMigrationConnection.CreatePair(ticket, link, _clock);
            await _arrivals.Writer.WriteAsync(destinationEnd, token);
            return sourceEnd;
        });

    private async Task<MigrationHost> SourceAsync(string id, string vmId)
    {
        // The sources wait (stall and ready) far longer than the destination, so only the destination's watchdog decides the stalled run.
        MigrationHost host = await Host(id, TimeSpan.FromHours(1)).BuildAsync();
        await ((SimulatedHypervisor)host.Driver).CreateVmAsync(vmId, 1 << 20);
        await _registry.RegisterAsync(vmId, id);
        return host;
    }

    private MigrationHostBuilder Host(string id, TimeSpan stallTimeout) => new MigrationHostBuilder(id)
        .ConfigureCoordinator(o => (o.StallTimeout, o.CommitTimeout) = (stallTimeout, stallTimeout))
        .UseTimeProvider(_clock)
        .UseJournal(new InMemoryMigrationJournal(id, _clock))
        .UseAudit(new InMemoryAuditSink(id, _clock))
        .UseOwnershipRegistry(_registry)
        .UseDriver(new SimulatedHypervisor(_directory.File(id)), disposeWithHost: true);
}
