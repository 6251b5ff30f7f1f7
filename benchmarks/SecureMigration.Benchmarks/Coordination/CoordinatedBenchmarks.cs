using System.IO.Pipelines;
using System.Net;
using BenchmarkDotNet.Attributes;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Hosting;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// What the coordinator adds to a transfer of <see cref="Bytes"/>: the bytes through a bare secure channel on loopback
/// (the baseline) against a whole coordinated migration of a stream that long between two hosts (journals with fsync,
/// registry, audit logs, framing and digests at both ends), with a hypervisor that costs nothing.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public abstract class CoordinatedBenchmarks
{
    private readonly string _directory = Directory.CreateTempSubdirectory("secmig-bench-coordinated-").FullName;
    private readonly List<IDisposable> _disposables = [];
    private readonly List<MigrationHost> _hosts = [];
    private SecureChannelFactory _sourceFactory = null!;
    private SecureChannelListener _listener = null!;
    private MigrationCoordinator _source = null!;
    private MigrationCoordinator _destination = null!;
    private InMemoryHypervisor _sourceDriver = null!;
    private FileOwnershipRegistry _registry = null!;
    private int _vm;

    /// <summary>Gets how long the stream is.</summary>
    protected abstract long Bytes { get; }

    /// <summary>Gets or sets how much of the stream the coordinator sends between two flushes of the channel.</summary>
    [Params(64 * 1024, 256 * 1024)]
    public int FlushBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using CertificateAuthority ca = CertificateAuthority.Create("Bench CA");
        X509ChannelCredentials Issue(string name)
        {
            IssuedCredential host = ca.IssueHost(name, [IPAddress.Loopback]);
            return X509ChannelCredentials.FromPem(host.CertificatePem, host.PrivateKeyPem, ca.CertificatePem);
        }

        X509ChannelCredentials source = Issue("source.bench");
        X509ChannelCredentials destination = Issue("destination.bench");
        _sourceFactory = new SecureChannelFactory(new SecureChannelOptions { Credentials = source });
        // Thousands of handshakes from one loopback source back to back: the per-prefix rate must not refuse them.
        var limits = new SecureChannelListenerOptions { HandshakesPerSecondPerPrefix = 100_000, HandshakeBurstPerPrefix = 100_000 };
        _listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0),
            new SecureChannelFactory(new SecureChannelOptions { Credentials = destination }), limits);
        _listener.Start();
        _registry = new FileOwnershipRegistry(Path.Combine(_directory, "registry"));
        _sourceDriver = new InMemoryHypervisor(Bytes);
        _source = Coordinator("source.bench", source, _sourceDriver);
        _destination = Coordinator("destination.bench", destination, new InMemoryHypervisor(Bytes));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _hosts.ForEach(h => h.DisposeAsync().AsTask().GetAwaiter().GetResult());
        _disposables.ForEach(d => d.Dispose());
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "bare secure channel")]
    public async Task<long> BareChannel()
    {
        MigrationTicket ticket = MigrationTicket.Create("bench-vm", "source.bench", "destination.bench", 1, TimeSpan.FromMinutes(1));
        Task<long> received = ReceiveAllAsync();
        await using (ChannelConnection connection = await _sourceFactory.ConnectAsync(_listener.LocalEndPoint, ticket))
        {
            PipeWriter output = connection.Channel.Output;
            byte[] chunk = new byte[64 * 1024];
            for (long sent = 0; sent < Bytes; sent += chunk.Length)
            {
                await output.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, Bytes - sent)));
            }

            await output.CompleteAsync();
            return await received;
        }
    }

    [Benchmark(Description = "coordinated migration")]
    public Task<long> Coordinated() => CoordinatedAsync(null, null);

    /// <summary>One coordinated migration, reporting each side's phases (for <see cref="PhaseTimelineRunner"/>).</summary>
    internal async Task<long> CoordinatedAsync(IProgress<MigrationProgress>? source, IProgress<MigrationProgress>? destination)
    {
        string vm = $"vm-{_vm++}";
        _sourceDriver.Run(vm);
        await _registry.RegisterAsync(vm, "source.bench");
        Task<MigrationResult> received = ReceiveMigrationAsync(destination);
        MigrationResult result = await _source.MigrateAsync(vm, "destination.bench", async (ticket,
            token) => await _sourceFactory.ConnectAsync(_listener.LocalEndPoint, ticket, token), progress: source);
        await received;
        return result.IsCommitted ? result.Bytes : throw new InvalidOperationException(result.Reason);
    }

    private async Task<long> ReceiveAllAsync()
    {
        await using ChannelConnection connection = (await _listener.AcceptAsync())!;
        long total = 0;
        while (true)
        {
            ReadResult read = await connection.Channel.Input.ReadAsync();
            total += read.Buffer.Length;
            connection.Channel.Input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return total;
            }
        }
    }

    private async Task<MigrationResult> ReceiveMigrationAsync(IProgress<MigrationProgress>? progress) =>
        await _destination.ReceiveAsync((await _listener.AcceptAsync())!, progress);

    private MigrationCoordinator Coordinator(string host, X509ChannelCredentials credentials, HypervisorDriver driver)
    {
        string directory = Path.Combine(_directory, host);
        var key = HostKey.FromCredentials(credentials);
        _disposables.Add(key);
        MigrationHost built = new MigrationHostBuilder(host)
            .ConfigureCoordinator(o => o.FlushBytes = FlushBytes)
            .UseHostKey(key)
            .UseJournal(Path.Combine(directory, "journal.smj"))
            .UseAudit(Path.Combine(directory, "audit.log"))
            .UseOwnershipRegistry(_registry)
            .UseDriver(driver)
            .UseSnapshots(new FileSnapshotProvider(Path.Combine(directory, "snapshots")))
            .BuildAsync().GetAwaiter().GetResult();
        _hosts.Add(built);
        return built.Coordinator;
    }
}
