using System.Net;
using Microsoft.Extensions.Logging;
using SecureMigration.Admission;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Testing.InMemory;
using SecureMigration.Testing.Network;
using SecureMigration.Tests.Coordination.Crashes;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A source and a destination host with their own directories, a shared ownership registry, a mutually authenticated
/// channel over loopback TCP and, optionally, a network attacker in between.
/// </summary>
internal sealed class TwoHosts : IAsyncDisposable
{
    public const string VmId = "vm-1";
    public const long VmSize = 4L * 1024 * 1024;

    private readonly TestPki _pki = new();
    private readonly TempDirectory _dir = new();
    private readonly SecureChannelFactory _sourceFactory;
    private readonly SecureChannelListener _listener;
    private readonly IOwnershipRegistry _sourceRegistry;
    private readonly IOwnershipRegistry _destinationRegistry;

    private TwoHosts(CoordinatorOptions? sourceOptions, CoordinatorOptions? destinationOptions,
        Func<IOwnershipRegistry, IOwnershipRegistry>? destinationRegistry,
        CrashPlan? sourceCrash, CrashPlan? destinationCrash, string? sourceJournal, AdmissionController? sourceAdmission,
            Func<IOwnershipRegistry, IOwnershipRegistry>? sourceRegistry,
        bool validateTickets, AdmissionController? destinationAdmission, ILoggerFactory? destinationLogger,
        Func<string, IOwnershipRegistry>? registries, Func<HypervisorDriver, HypervisorDriver>? sourceDriver,
        Func<IAuditSink, IAuditSink>? destinationAudit, Func<string, IMigrationJournal, IMigrationJournal>? journals,
        Func<HypervisorDriver, HypervisorDriver>? destinationDriver)
    {
        Registry = new FileOwnershipRegistry(Path.Combine(_dir.Path, "registry"));
        _sourceRegistry = registries?.Invoke("source.test") ?? Registry;
        _destinationRegistry = registries?.Invoke("destination.test") ?? Registry;
        Source = TestHost.Create("source.test", Path.Combine(_dir.Path, "source"), sourceRegistry?.Invoke(_sourceRegistry) ??
            _sourceRegistry,
            sourceOptions, sourceAdmission, sourceCrash, sourceJournal, wrapDriver: sourceDriver,
            wrapJournal: journals is null ? null : inner => journals("source.test", inner));
        Destination = TestHost.Create("destination.test", Path.Combine(_dir.Path, "destination"),
            destinationRegistry?.Invoke(_destinationRegistry) ??
            _destinationRegistry, destinationOptions,
            destinationAdmission, destinationCrash, logging: destinationLogger, wrapAudit: destinationAudit, wrapDriver: destinationDriver,
            wrapJournal: journals is null ? null : inner => journals("destination.test", inner));
        _sourceFactory = new SecureChannelFactory(ChannelHarness.Options(_pki.Credentials(_pki.Source)));
        SecureChannelOptions destinationChannel = ChannelHarness.Options(_pki.Credentials(_pki.Destination));
        if (validateTickets)
        {
            destinationChannel.TicketValidator = Destination.Coordinator.CreateTicketValidator();
        }

        // Tests send many tickets from 127.0.0.1 on clocks that may stand still: the per-prefix rate must not refuse them.
        var limits = new SecureChannelListenerOptions { HandshakeBurstPerPrefix = 1000 };
        _listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), new SecureChannelFactory(destinationChannel), limits);
        _listener.Start();
    }

    public FileOwnershipRegistry Registry { get; }

    /// <summary>Gets the shared registry's id, which any host of the cluster can read (and put in a ticket).</summary>
    public string RegistryId { get; private set; } = string.Empty;

    public TestHost Source { get; private set; }

    public TestHost Destination { get; private set; }

    public NetworkAttacker? Relay { get; private set; }

    public string Root => _dir.Path;

    /// <summary>Gets the destination's side of the last <see cref="MigrateAsync"/>, for a test whose source side threw.</summary>
    public Task<MigrationResult?> LastDestination { get; private set; } = Task.FromResult<MigrationResult?>(null);

    public static async Task<TwoHosts> CreateAsync(CoordinatorOptions? sourceOptions = null, CoordinatorOptions? destinationOptions = null,
        bool withRelay = false,
        Func<IOwnershipRegistry, IOwnershipRegistry>? destinationRegistry = null, CrashPlan? sourceCrash = null,
            CrashPlan? destinationCrash = null,
        string? sourceJournal = null, AdmissionController? sourceAdmission = null,
            Func<IOwnershipRegistry, IOwnershipRegistry>? sourceRegistry = null,
        bool validateTickets = false, AdmissionController? destinationAdmission = null, ILoggerFactory? destinationLogger = null,
        Func<string, IOwnershipRegistry>? registries = null, Func<HypervisorDriver, HypervisorDriver>? sourceDriver = null,
        Func<IAuditSink, IAuditSink>? destinationAudit = null, Func<string, IMigrationJournal, IMigrationJournal>? journals = null,
        Func<HypervisorDriver, HypervisorDriver>? destinationDriver = null)
    {
        var hosts = new TwoHosts(sourceOptions, destinationOptions, destinationRegistry, sourceCrash, destinationCrash, sourceJournal,
            sourceAdmission, sourceRegistry,
            validateTickets, destinationAdmission, destinationLogger, registries, sourceDriver, destinationAudit, journals,
            destinationDriver);
        if (withRelay)
        {
            hosts.Relay = new NetworkAttacker(hosts._listener.LocalEndPoint);
        }

        await hosts.Source.Driver.CreateVmAsync(VmId, VmSize);
        await hosts._sourceRegistry.RegisterAsync(VmId, hosts.Source.Id);
        hosts.RegistryId = await hosts._sourceRegistry.GetIdAsync();
        return hosts;
    }

    /// <summary>
    /// Credentials of an insider: a host named <paramref name="name"/> with a certificate from the cluster's own CA, as
    /// any host of the cluster has.
    /// </summary>
    public SecureChannelFactory InsiderFactory(string name = "insider.test") =>
        new(ChannelHarness.Options(_pki.Credentials(_pki.Ca.IssueHost(name, [IPAddress.Loopback]))));

    /// <summary>
    /// Sends <paramref name="ticket"/> from <paramref name="from"/> to the destination's listener and lets the
    /// destination's coordinator serve what comes out of it. Returns the destination's result (<see langword="null"/>
    /// when the handshake refused the ticket) and the refusal the sender saw, if any.
    /// </summary>
    public async Task<(MigrationResult? Destination, Exception? SenderSaw)> SendTicketAsync(SecureChannelFactory from,
        MigrationTicket ticket)
    {
        using var refused = new CancellationTokenSource();
        Task<MigrationResult?> destination = ReceiveOneAsync(refused.Token);
        Exception? senderSaw = null;
        try
        {
            await using ChannelConnection connection = await from.ConnectAsync(_listener.LocalEndPoint, ticket);
            var wire = new MigrationWire(connection.Channel, TimeSpan.FromSeconds(30), TimeProvider.System);
            using (wire)
            {
                await wire.ReceiveAsync(FrameType.Ready, TimeSpan.FromSeconds(30), CancellationToken.None);
            }
        }
        catch (Exception e) when (e is HandshakeFailedException or MigrationAbortedException)
        {
            senderSaw = e;
        }

        if (senderSaw is HandshakeFailedException)
        {
            await refused.CancelAsync();
        }

        return (await destination, senderSaw);
    }

    /// <summary>Runs one migration, both ends concurrently; the destination gives up waiting when no channel ever reached it.</summary>
    public async Task<(MigrationResult Source, MigrationResult? Destination)> MigrateAsync(
        IProgress<MigrationProgress>? destinationProgress = null, IProgress<MigrationProgress>? sourceProgress = null)
    {
        using var noChannel = new CancellationTokenSource();
        Task<MigrationResult?> destination = LastDestination = ReceiveOneAsync(noChannel.Token, destinationProgress);
        IPEndPoint target = Relay?.EndPoint ?? _listener.LocalEndPoint;
        MigrationResult source;
        try
        {
            source = await Source.Coordinator.MigrateAsync(VmId, Destination.Id, async (ticket,
                token) => await _sourceFactory.ConnectAsync(target, ticket, token), progress: sourceProgress ?? Source.Progress);
        }
        finally
        {
            if (!Source.Journal.Records.Any(r => r.Phase == MigrationPhase.ChannelOpen))
            {
                await noChannel.CancelAsync();
            }
        }

        return (source, await destination);
    }

    /// <summary>
    /// Starts one migration over an in-memory connection (no socket, no TLS): the bytes from the source pass through
    /// <paramref name="toDestination"/>. The destination's task is <see langword="null"/> when the source never connected.
    /// </summary>
    public (Task<MigrationResult> Source, Task<MigrationResult?> Destination) StartInMemory(FaultInjectingPipe toDestination,
        TimeProvider time)
    {
        var receiving = new TaskCompletionSource<Task<MigrationResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<MigrationResult> source = Source.Coordinator.MigrateAsync(VmId, Destination.Id, (ticket, _) =>
        {
            (InMemoryMigrationConnection sourceEnd, InMemoryMigrationConnection destinationEnd) =
                InMemoryMigrationConnection.CreatePair(ticket, toDestination, time);
            receiving.TrySetResult(Destination.Coordinator.ReceiveAsync(destinationEnd));
            return Task.FromResult<MigrationConnection>(sourceEnd);
        });

        async Task<MigrationResult?> DestinationAsync()
        {
            await Task.WhenAny(receiving.Task, source);
            return receiving.Task.IsCompleted ? await receiving.Task.Result : null;
        }

        return (source, DestinationAsync());
    }

    /// <summary>
    /// Runs the source's side of a migration against an impostor destination (a host with the destination's
    /// credentials that speaks the migration protocol as <paramref name="impostor"/> likes).
    /// </summary>
    public async Task<MigrationResult> MigrateToImpostorAsync(Func<MigrationWire, Task> impostor)
    {
        async Task ServeAsync()
        {
            await using ChannelConnection connection = (await _listener.AcceptAsync())!;
            using var wire = new MigrationWire(connection.Channel, TimeSpan.FromSeconds(30), TimeProvider.System);
            await impostor(wire);
            await connection.Channel.Input.DrainUntilClosedAsync();
        }

        Task serving = ServeAsync();
        MigrationResult source = await Source.Coordinator.MigrateAsync(VmId, Destination.Id, async (ticket,
            token) => await _sourceFactory.ConnectAsync(_listener.LocalEndPoint, ticket, token));
        await serving;
        return source;
    }

    /// <summary>Runs one migration like <see cref="MigrateAsync"/>, but keeps each side's crash instead of throwing it.</summary>
    public async Task<(Exception? Source, Exception? Destination)> MigrateThroughCrashesAsync()
    {
        using var noChannel = new CancellationTokenSource();
        Task<MigrationResult?> destination = ReceiveOneAsync(noChannel.Token);
        Exception? sourceError = null;
        try
        {
            await Source.Coordinator.MigrateAsync(VmId, Destination.Id, async (ticket,
                token) => await _sourceFactory.ConnectAsync(_listener.LocalEndPoint, ticket, token), progress: Source.Progress);
        }
        catch (SimulatedCrashException e)
        {
            sourceError = e;
        }

        if (!Source.Journal.Records.Any(r => r.Phase == MigrationPhase.ChannelOpen))
        {
            await noChannel.CancelAsync();
        }

        try
        {
            await destination;
            return (sourceError, null);
        }
        catch (SimulatedCrashException e)
        {
            return (sourceError, e);
        }
    }

    /// <summary>Restarts both hosts from what they left on disk, without crash plans.</summary>
    public async Task RestartBothAsync(Action? whileDestinationIsDown = null)
    {
        Source = await Source.RestartAsync(_sourceRegistry);
        Destination = await Destination.RestartAsync(_destinationRegistry, whileDown: whileDestinationIsDown);
    }

    /// <summary>Restarts the destination from what it left on disk, with <paramref name="registry"/> (another registry than the shared one,
    /// say).</summary>
    public async Task RestartDestinationAsync(IOwnershipRegistry registry) => Destination = await Destination.RestartAsync(registry);

    /// <summary>Asserts the stable end state: exactly one runnable copy, on the host holding the epoch, with no residue left
    /// anywhere.</summary>
    public async Task<string> AssertOneRunnableCopyAsync()
    {
        OwnershipRecord owner = (await _sourceRegistry.GetAsync(VmId))!;
        VmStatus source = await Source.Driver.QueryAsync(VmId);
        VmStatus destination = await Destination.Driver.QueryAsync(VmId);
        Assert.True(source.IsRunnable ^ destination.IsRunnable, $"exactly one runnable copy: source {source.State}, destination " +
            $"{destination.State}");
        TestHost holder = owner.Owner == Source.Id ? Source : Destination;
        TestHost other = holder == Source ? Destination : Source;
        Assert.Equal(VmRunState.Running, (await holder.Driver.QueryAsync(VmId)).State);
        Assert.Empty((await other.Driver.QueryAsync(VmId)).Images);
        if (holder == Destination)
        {
            Assert.NotNull(Source.Driver.FrozenImageSha256(VmId));
            Assert.Equal(Source.Driver.FrozenImageSha256(VmId), Destination.Driver.FrozenImageSha256(VmId));
        }

        foreach (TestHost host in new[] { Source, Destination })
        {
            Assert.All(host.Journal.LatestRecords, r => Assert.True(MigrationStateMachine.IsFinal(r.Phase),
                $"{host.Id}: migration {r.MigrationId} is still {r.Phase}"));
            Assert.False(System.IO.Directory.Exists(host.Snapshots.Directory) &&
                System.IO.Directory.EnumerateFileSystemEntries(host.Snapshots.Directory).Any(), $"{host.Id} keeps a snapshot");
            Assert.True(host.VerifyAudit().IsIntact);
        }

        return owner.Owner;
    }

    public async ValueTask DisposeAsync()
    {
        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }

        await _listener.DisposeAsync();
        await Source.DisposeAsync();
        await Destination.DisposeAsync();
        _pki.Dispose();
        _dir.Dispose();
    }

    private async Task<MigrationResult?> ReceiveOneAsync(CancellationToken noChannel, IProgress<MigrationProgress>? progress = null)
    {
        ChannelConnection? connection;
        try
        {
            connection = await _listener.AcceptAsync(noChannel);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        return connection is null ? null : await Destination.Coordinator.ReceiveAsync(connection, progress ?? Destination.Progress);
    }
}
