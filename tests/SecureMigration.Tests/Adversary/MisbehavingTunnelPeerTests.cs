using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tunnel;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Issue 15, "An adversarial peer", on the tunnel: a peer with valid credentials misbehaves against the tunnel's
/// destination end (<see cref="TunnelAcceptor"/>) and its source end (<see cref="TunnelConnector"/>). Records split and
/// merged anywhere still carry the bytes intact; a replayed record, an idle connection past its timeout and a handshake
/// never finished end the connection within their timeouts; nothing reaches the hypervisor before a handshake completes;
/// and no thread is left spinning.
/// </summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class MisbehavingTunnelPeerTests(TestPki pki) : IClassFixture<TestPki>
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(17);
    private static readonly byte[] Message = "twelve bytes"u8.ToArray();

    private readonly ArmedClock _clock = new();

    [Fact]
    public async Task Acceptor_MessageCutIntoRecordsAtEveryPairOfPoints_ReachesTheHypervisorIntact()
    {
        await using var hypervisor = new EchoServer();
        await using TunnelAcceptor acceptor = StartAcceptor(hypervisor);
        await using AdversaryPeer peer = await ConnectAsync(acceptor);

        for (int first = 0; first < Message.Length; first++)
        {
            for (int second = first; second < Message.Length; second++)
            {
                await peer.SendAsync(Message, first, second);
                Assert.Equal(Message, await ReadAsync(peer.Channel.Input, Message.Length));
            }
        }

        await IdleCpu.AssertQuietAsync("after the case");
    }

    [Fact]
    public async Task Acceptor_ReplayedRecord_DropsTheChannelAtOnce()
    {
        await using var hypervisor = new EchoServer();
        await using TunnelAcceptor acceptor = StartAcceptor(hypervisor);
        await using AdversaryPeer peer = await ConnectAsync(acceptor);
        await peer.SendAsync(Message);
        Assert.Equal(Message, await ReadAsync(peer.Channel.Input, Message.Length));

        await peer.ReplayLastRecordAsync();

        await AssertDroppedAsync(peer);
    }

    [Fact]
    public async Task Acceptor_IdleJustUnderItsTimeout_KeepsTheConnection()
    {
        await using var hypervisor = new EchoServer();
        await using TunnelAcceptor acceptor = StartAcceptor(hypervisor);
        await using AdversaryPeer peer = await ConnectAsync(acceptor);
        await peer.SendAsync(Message);
        Assert.Equal(Message, await ReadAsync(peer.Channel.Input, Message.Length));

        await ElapseAsync(Idle, Idle - Arena.Tick);

        await peer.SendAsync(Message);
        Assert.Equal(Message, await ReadAsync(peer.Channel.Input, Message.Length));
    }

    [Fact]
    public async Task Acceptor_IdleJustOverItsTimeout_DropsTheChannel()
    {
        await using var hypervisor = new EchoServer();
        await using TunnelAcceptor acceptor = StartAcceptor(hypervisor);
        await using AdversaryPeer peer = await ConnectAsync(acceptor);
        await peer.SendAsync(Message);
        Assert.Equal(Message, await ReadAsync(peer.Channel.Input, Message.Length));

        await ElapseAsync(Idle, Idle + Arena.Tick);

        await AssertDroppedAsync(peer);
    }

    [Fact]
    public async Task Acceptor_HandshakeHeldJustOverItsTimeout_IsClosedAndNeverReachesTheHypervisor()
    {
        await using var hypervisor = new EchoServer();
        await using TunnelAcceptor acceptor = StartAcceptor(hypervisor);
        using var held = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await held.ConnectAsync(acceptor.LocalEndPoint);

        await ElapseAsync(Arena.Handshake, Arena.Handshake + Arena.Tick);

        Assert.Empty(await held.ReceiveToEndAsync());
        Assert.Equal(0, hypervisor.Connections);
        await IdleCpu.AssertQuietAsync("after the case");
    }

    [Fact]
    public async Task Acceptor_HandshakeHeldJustUnderItsTimeout_IsStillServed()
    {
        await using var hypervisor = new EchoServer();
        await using TunnelAcceptor acceptor = StartAcceptor(hypervisor);
        var held = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await held.ConnectAsync(acceptor.LocalEndPoint);

        await ElapseAsync(Arena.Handshake, Arena.Handshake - Arena.Tick);

        await using AdversaryPeer peer = await AdversaryPeer.ConnectAsync(held, Channels(pki.Source), Ticket());
        await peer.SendAsync(Message);
        Assert.Equal(Message, await ReadAsync(peer.Channel.Input, Message.Length));
    }

    [Fact]
    public async Task Connector_PeerHoldsTheHandshakeJustOverItsTimeout_TheLocalConnectionEnds()
    {
        await using ConnectorCase tunnel = await StartConnectorAsync();
        using Socket held = await tunnel.PeerListener.AcceptAsync();

        await ElapseAsync(Arena.Handshake, Arena.Handshake + Arena.Tick);

        Assert.Empty(await tunnel.Hypervisor.ReceiveToEndAsync());
        await IdleCpu.AssertQuietAsync("after the case");
    }

    [Fact]
    public async Task Connector_PeerReplaysARecord_TheLocalConnectionIsReset()
    {
        await using ConnectorCase tunnel = await StartConnectorAsync();
        await using AdversaryPeer peer = await AdversaryPeer.AcceptAsync(await tunnel.PeerListener.AcceptAsync(),
            Channels(pki.Destination));
        await peer.SendAsync(Message);
        byte[] received = new byte[Message.Length];
        Assert.Equal(Message.Length, await tunnel.Hypervisor.ReceiveAsync(received));

        await peer.ReplayLastRecordAsync();

        Assert.Empty(await tunnel.Hypervisor.ReceiveToEndAsync());
        await IdleCpu.AssertQuietAsync("after the case");
    }

    /// <summary>A 'tunnel connect' whose peer is a bare listener the case drives, with the hypervisor's connection made.</summary>
    private async Task<ConnectorCase> StartConnectorAsync()
    {
        var peerListener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        peerListener.Bind(AnyLoopback);
        peerListener.Listen();
        var connector = new TunnelConnector(AnyLoopback, peerListener.LocalEndPoint!, "destination.test", Channels(pki.Source),
            new TunnelOptions { TimeProvider = _clock, IdleTimeout = Idle });
        connector.Start();
        var hypervisor = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await hypervisor.ConnectAsync(connector.LocalEndPoint);
        return new ConnectorCase(peerListener, connector, hypervisor);
    }

    private static async Task<byte[]> ReadAsync(PipeReader input, int count)
    {
        ReadResult read = await input.ReadAtLeastAsync(count);
        byte[] bytes = read.Buffer.Slice(0, Math.Min(count, read.Buffer.Length)).ToArray();
        input.AdvanceTo(read.Buffer.GetPosition(bytes.Length));
        return bytes;
    }

    /// <summary>The tunnel dropped the channel without close_notify: the peer's reads fail as truncated.</summary>
    private static async Task AssertDroppedAsync(AdversaryPeer peer)
    {
        PipeReader input = peer.Channel.Input;
        SecureChannelException dropped = await Assert.ThrowsAsync<SecureChannelException>(async () =>
        {
            ReadResult read;
            do
            {
                read = await input.ReadAsync();
                input.AdvanceTo(read.Buffer.End);
            }
            while (!read.IsCompleted);
        });
        Assert.Equal(ChannelFailureReason.Truncated, dropped.Reason);
        await IdleCpu.AssertQuietAsync("after the case");
    }

    private async Task ElapseAsync(TimeSpan timeout, TimeSpan by)
    {
        await _clock.WhenArmedAsync(timeout).WaitAsync(TimeSpan.FromSeconds(30));
        await IdleCpu.AssertQuietAsync($"waiting {timeout.TotalSeconds} s for the peer");
        _clock.Advance(by);
    }

    private TunnelAcceptor StartAcceptor(EchoServer hypervisor)
    {
        SecureChannelFactory destination = Channels(pki.Destination);
        // A held connection sends nothing: the first-byte timeout governs it, set here to the handshake timeout so one
        // timer is armed and the cases hold it just under and just over.
        var acceptor = new TunnelAcceptor(AnyLoopback, hypervisor.EndPoint, destination,
            new SecureChannelListenerOptions { FirstByteTimeout = Arena.Handshake },
            options: new TunnelOptions { TimeProvider = _clock, IdleTimeout = Idle, AllowAnyPeer = true });
        acceptor.Start();
        return acceptor;
    }

    private Task<AdversaryPeer> ConnectAsync(TunnelAcceptor acceptor) =>
        AdversaryPeer.ConnectAsync(acceptor.LocalEndPoint, Channels(pki.Source), Ticket());

    private MigrationTicket Ticket() =>
        MigrationTicket.Create("tunnel", "source.test", "destination.test", 0, TimeSpan.FromMinutes(1), _clock);

    private SecureChannelFactory Channels(SecureMigration.Testing.Pki.IssuedCredential host) => new(new SecureChannelOptions
    {
        Credentials = pki.Credentials(host),
        TimeProvider = _clock,
        HandshakeTimeout = Arena.Handshake,
    });

    private sealed record ConnectorCase(Socket PeerListener, TunnelConnector Connector, Socket Hypervisor) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Hypervisor.Dispose();
            await Connector.DisposeAsync();
            PeerListener.Dispose();
        }
    }
}
