using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Transport;

namespace SecureMigration.Tests.Channel;

public sealed class SecureChannelListenerTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task Accept_MoreHandshakesFromOneAddressThanAllowed_ClosesTheExtraConnectionAtOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time));
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory,
            new SecureChannelListenerOptions { MaxHandshakesPerAddress = 2 });
        listener.Start();

        using var first = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var second = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var third = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await first.ConnectAsync(listener.LocalEndPoint);
        await second.ConnectAsync(listener.LocalEndPoint);

        int read;
        try
        {
            // The listener resets the extra connection, which may surface on connect or on the first read.
            await third.ConnectAsync(listener.LocalEndPoint);
            read = await third.ReceiveAsync(new byte[1]);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            read = 0;
        }

        Assert.Equal(0, read);
        Assert.Equal(2, listener.ActiveHandshakes);
    }

    [Fact]
    public async Task Accept_AuthenticatedPeer_ComesOutOfAcceptAsync()
    {
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory);
        listener.Start();

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndPoint);
        await using StreamDuplexPipe transport = StreamDuplexPipe.Create(socket);
        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        await using SecureChannel client = await source.ConnectAsync(transport, ChannelHarness.Ticket());
        await using ChannelConnection? accepted = await listener.AcceptAsync();

        Assert.Equal("source.test", accepted!.Channel.Peer.Name);
        Assert.True(accepted.WireCounters.BytesReceived > 0);
    }

    [Fact]
    public void Limiter_ReleasesSlotsOnExit()
    {
        var limiter = new HandshakeLimiter(maxTotal: 2, maxPerAddress: 1);

        Assert.True(limiter.TryEnter(IPAddress.Loopback, out _, out _));
        Assert.False(limiter.TryEnter(IPAddress.Loopback, out _, out int fromAddress));
        Assert.Equal(1, fromAddress);
        Assert.True(limiter.TryEnter(IPAddress.IPv6Loopback, out _, out _));
        Assert.False(limiter.TryEnter(IPAddress.Parse("127.0.0.2"), out int active, out _));
        Assert.Equal(2, active);

        limiter.Exit(IPAddress.Loopback);
        Assert.True(limiter.TryEnter(IPAddress.Parse("127.0.0.2"), out _, out _));
    }
}
