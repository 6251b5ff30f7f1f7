using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Phases;
using SecureMigration.Hosting;
using SecureMigration.Testing.InMemory;
using SecureMigration.Testing.Simulation;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Hosting;

/// <summary>
/// Hosts built from the builder's seams alone: an in-memory journal, audit sink and ownership registry, and an in-memory
/// connection through a fault-injecting pipe. No socket, no host key, no journal file: what the coordinator needs is
/// what the interfaces promise.
/// </summary>
public sealed class InMemoryHostTests : IDisposable
{
    private const string VmId = "vm-mem";
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly InMemoryOwnershipRegistry _registry;

    public InMemoryHostTests() => _registry = new InMemoryOwnershipRegistry(_clock);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Migrate_InMemoryParts_CommitsAndTheRegistryNamesTheOneRunnableCopy()
    {
        await using Pair pair = await PairAsync();

        (MigrationResult source, MigrationResult destination) = await MigrateAsync(pair, new FaultInjectingPipe(WireFault.None));

        Assert.Equal(MigrationStatus.Completed, source.Status);
        Assert.Equal(MigrationStatus.Completed, destination.Status);
        Assert.Equal("destination.mem", (await _registry.GetAsync(VmId))!.Owner);
        Assert.Equal(VmRunState.Running, (await pair.DestinationDriver.QueryAsync(VmId)).State);
        Assert.False((await pair.SourceDriver.QueryAsync(VmId)).IsRunnable);
        Assert.All([pair.SourceJournal, pair.DestinationJournal], journal =>
            Assert.All(journal.LatestRecords, r => Assert.True(MigrationStateMachine.IsFinal(r.Phase), $"{journal.Name}: {r.Phase}")));
        Assert.Contains(pair.SourceAudit.Entries, e => e.Event == nameof(MigrationPhase.Completed));
        Assert.Empty(Directory.EnumerateFiles(_directory.Path, "*.key", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Migrate_InMemoryParts_TruncatedStreamRollsBackToTheSource()
    {
        await using Pair pair = await PairAsync();

        (MigrationResult source, MigrationResult destination) = await MigrateAsync(pair,
            new FaultInjectingPipe(WireFault.TruncateAt(100_000)));

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(MigrationStatus.RolledBack, destination.Status);
        Assert.Equal("source.mem", (await _registry.GetAsync(VmId))!.Owner);
        Assert.Equal(VmRunState.Running, (await pair.SourceDriver.QueryAsync(VmId)).State);
        Assert.False((await pair.DestinationDriver.QueryAsync(VmId)).IsRunnable);
    }

    private async Task<(MigrationResult Source, MigrationResult Destination)> MigrateAsync(Pair pair, FaultInjectingPipe link)
    {
        var receiving = new TaskCompletionSource<Task<MigrationResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
        MigrationResult source = await pair.Source.Coordinator.MigrateAsync(VmId, pair.Destination.HostId, (ticket, _) =>
        {
            (InMemoryMigrationConnection sourceEnd, InMemoryMigrationConnection destinationEnd) =
                InMemoryMigrationConnection.CreatePair(ticket, link, _clock);
            receiving.TrySetResult(pair.Destination.Coordinator.ReceiveAsync(destinationEnd));
            return Task.FromResult<MigrationConnection>(sourceEnd);
        }).WaitAsync(HangGuard);
        return (source, await (await receiving.Task).WaitAsync(HangGuard));
    }

    private async Task<Pair> PairAsync()
    {
        var sourceDriver = new SimulatedHypervisor(_directory.File("source-vms"));
        var destinationDriver = new SimulatedHypervisor(_directory.File("destination-vms"));
        var sourceJournal = new InMemoryMigrationJournal("source journal", _clock);
        var destinationJournal = new InMemoryMigrationJournal("destination journal", _clock);
        var sourceAudit = new InMemoryAuditSink("source.mem", _clock);
        MigrationHost source = await Host("source.mem", sourceDriver, sourceJournal, sourceAudit).BuildAsync();
        MigrationHost destination = await Host("destination.mem", destinationDriver, destinationJournal,
            new InMemoryAuditSink("destination.mem", _clock)).BuildAsync();
        await sourceDriver.CreateVmAsync(VmId, 1 << 20);
        await _registry.RegisterAsync(VmId, source.HostId);
        return new Pair(source, destination, sourceDriver, destinationDriver, sourceJournal, destinationJournal, sourceAudit);
    }

    private MigrationHostBuilder Host(string id, HypervisorDriver driver, InMemoryMigrationJournal journal, InMemoryAuditSink audit) =>
        new MigrationHostBuilder(id)
            .UseTimeProvider(_clock)
            .UseJournal(journal)
            .UseAudit(audit)
            .UseOwnershipRegistry(_registry)
            .UseDriver(driver, disposeWithHost: true);

    private sealed record Pair(MigrationHost Source, MigrationHost Destination, SimulatedHypervisor SourceDriver,
        SimulatedHypervisor DestinationDriver, InMemoryMigrationJournal SourceJournal, InMemoryMigrationJournal DestinationJournal,
        InMemoryAuditSink SourceAudit) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Source.DisposeAsync();
            await Destination.DisposeAsync();
        }
    }
}
