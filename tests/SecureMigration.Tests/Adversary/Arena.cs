using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Testing.Pki;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Where an <see cref="AdversaryPeer"/> meets a real coordinator: a source and a destination host (simulated hypervisor,
/// journal, admission, one registry), real channels over loopback TCP, and one <see cref="ArmedClock"/> for every timeout.
/// Each timeout has its own length, so a test can tell which wait is armed.
/// </summary>
internal sealed class Arena : IAsyncDisposable
{
    public const string VmId = "vm-adversary";
    public static readonly TimeSpan Stall = TimeSpan.FromSeconds(7);
    public static readonly TimeSpan Commit = TimeSpan.FromSeconds(11);
    public static readonly TimeSpan Handshake = TimeSpan.FromSeconds(13);

    /// <summary>The smallest step of the clock: a wait moved to its timeout less this has not run out, plus this has.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    /// <summary>A clock that never moves, so the simulated guests never dirty their memory: an idle host uses no CPU.</summary>
    private static readonly TimeProvider QuietGuests = new FakeTimeProvider();
    private readonly TestPki _pki;
    private readonly TempDirectory _dir = new();
    private readonly SecureChannelListener _listener;

    private Arena(TestPki pki)
    {
        _pki = pki;
        Registry = new FileOwnershipRegistry(Path.Combine(_dir.Path, "registry"));
        SourceAdmission = new AdmissionController(new AdmissionOptions(), Clock);
        DestinationAdmission = new AdmissionController(new AdmissionOptions(), Clock);
        Source = TestHost.Create("source.test", Path.Combine(_dir.Path, "source"), Registry, Options(), SourceAdmission,
            guestClock: QuietGuests,
            wrapDriver: driver => SourceHypervisor = new HoldingDriver(driver));
        Destination = TestHost.Create("destination.test", Path.Combine(_dir.Path, "destination"), Registry, Options(),
            DestinationAdmission, guestClock: QuietGuests);
        SourceChannels = new SecureChannelFactory(ChannelOptions(_pki.Source));
        DestinationChannels = new SecureChannelFactory(ChannelOptions(_pki.Destination));
        _listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), DestinationChannels);
        _listener.Start();
    }

    public ArmedClock Clock { get; } = new();

    public FileOwnershipRegistry Registry { get; }

    public TestHost Source { get; }

    /// <summary>Gets the source's hypervisor as its coordinator sees it; it can hold the migration stream.</summary>
    public HoldingDriver SourceHypervisor { get; private set; } = null!;

    public TestHost Destination { get; }

    public AdmissionController SourceAdmission { get; }

    public AdmissionController DestinationAdmission { get; }

    /// <summary>Gets the source's credentials (the peer uses them when it plays the source).</summary>
    public SecureChannelFactory SourceChannels { get; }

    /// <summary>Gets the destination's credentials (the peer uses them when it plays the destination).</summary>
    public SecureChannelFactory DestinationChannels { get; }

    /// <summary>Gets the phases the real coordinator has reached in the current case.</summary>
    public PhaseSignals Phases { get; } = new();

    /// <summary>Creates the hosts and the VM; the hosts' certificates come from <paramref name="pki"/>, shared by the class.</summary>
    public static async Task<Arena> CreateAsync(TestPki pki)
    {
        var arena = new Arena(pki);
        await arena.Source.Driver.CreateVmAsync(VmId, 256 * 1024);
        await arena.Registry.RegisterAsync(VmId, arena.Source.Id);
        return arena;
    }

    /// <summary>The peer plays the source, with the source's credentials and a valid ticket, against the real destination.</summary>
    public async Task<MigrationResult> AgainstDestinationAsync(Func<AdversaryPeer, Task> script)
    {
        Task<MigrationResult> destination = ReceiveOneAsync();
        MigrationTicket ticket = MigrationTicket.Create(VmId, Source.Id, Destination.Id, 1, TimeSpan.FromMinutes(5), Clock)
            with { RegistryId = await Registry.GetIdAsync() };
        await using (AdversaryPeer peer = await AdversaryPeer.ConnectAsync(_listener.LocalEndPoint, SourceChannels, ticket))
        {
            await script(peer).WaitAsync(HangGuard);
        }

        return await destination.WaitAsync(HangGuard);
    }

    /// <summary>The peer plays the destination, with the destination's credentials, against the real source.</summary>
    public Task<MigrationResult> AgainstSourceAsync(Func<AdversaryPeer, Task> script) => AgainstSourceAsync(async socket =>
    {
        await using AdversaryPeer peer = await AdversaryPeer.AcceptAsync(socket, DestinationChannels);
        await script(peer);
    });

    /// <summary>The real source connects to <paramref name="serve"/>, which has the TCP connection before any handshake.</summary>
    public async Task<MigrationResult> AgainstSourceAsync(Func<Socket, Task> serve)
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        async Task ServeAsync()
        {
            using Socket accepted = await listener.AcceptAsync();
            await serve(accepted);
        }

        Task serving = ServeAsync();
        MigrationResult source = await Source.Coordinator.MigrateAsync(VmId, Destination.Id,
            async (ticket, token) => await SourceChannels.ConnectAsync(listener.LocalEndPoint!, ticket, token),
                progress: Phases).WaitAsync(HangGuard);
        await serving.WaitAsync(HangGuard);
        return source;
    }

    /// <summary>
    /// Waits until the real coordinator has armed <paramref name="timeout"/>, checks it waits idle, and moves the clock by
    /// <paramref name="by"/>.
    /// </summary>
    public async Task ElapseAsync(TimeSpan timeout, TimeSpan by)
    {
        await Clock.WhenArmedAsync(timeout).WaitAsync(HangGuard);
        await IdleCpu.AssertQuietAsync($"waiting {timeout.TotalSeconds} s for the peer");
        Clock.Advance(by);
    }

    /// <summary>Asserts what a source must be left with: its VM running, its epoch kept, its lease returned, its journal final.</summary>
    public async Task AssertSourceKeptTheVmAsync()
    {
        Assert.Equal(VmRunState.Running, (await Source.Driver.QueryAsync(VmId)).State);
        Assert.Equal(Source.Id, (await Registry.GetAsync(VmId))!.Owner);
        AssertSettled(Source, SourceAdmission);
    }

    /// <summary>
    /// Asserts what a destination must be left with: the VM runs here only when this host took the epoch (a real commit),
    /// and otherwise no copy of it is left; its lease is returned and its journal final.
    /// </summary>
    public async Task AssertDestinationRunsOnlyAfterACommitAsync(bool committed)
    {
        VmStatus status = await Destination.Driver.QueryAsync(VmId);
        OwnershipRecord owner = (await Registry.GetAsync(VmId))!;
        Assert.Equal(committed, owner.Owner == Destination.Id);
        Assert.Equal(committed, status.State == VmRunState.Running);
        if (!committed)
        {
            Assert.False(status.IsRunnable, $"the destination keeps a {status.State} copy");
            Assert.Empty(status.Images);
        }

        AssertSettled(Destination, DestinationAdmission);
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        await Source.DisposeAsync();
        await Destination.DisposeAsync();
        _dir.Dispose();
    }

    private static void AssertSettled(TestHost host, AdmissionController admission)
    {
        Assert.Equal(0, admission.ActiveMigrations);
        Assert.All(host.Journal.LatestRecords,
            r => Assert.True(MigrationStateMachine.IsFinal(r.Phase), $"{host.Id}: {r.MigrationId} is still {r.Phase}"));
    }

    private async Task<MigrationResult> ReceiveOneAsync()
    {
        ChannelConnection connection = (await _listener.AcceptAsync())!;
        return await Destination.Coordinator.ReceiveAsync(connection, Phases);
    }

    private CoordinatorOptions Options() => new() { TimeProvider = Clock, StallTimeout = Stall, CommitTimeout = Commit };

    private SecureChannelOptions ChannelOptions(IssuedCredential host) => new()
    {
        Credentials = _pki.Credentials(host),
        TimeProvider = Clock,
        HandshakeTimeout = Handshake,
    };
}
