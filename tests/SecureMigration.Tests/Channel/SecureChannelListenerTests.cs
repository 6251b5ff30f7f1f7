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
    public async Task Accept_MoreHandshakesFromOnePrefixThanAllowed_ClosesTheExtraConnectionAtOnce()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time));
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory,
            new SecureChannelListenerOptions { MaxHandshakesPerPrefix = 2 });
        listener.Start();

        // Three addresses of 127.0.0.0/24: one prefix.
        using Socket first = await ConnectFromAsync("127.0.0.11", listener);
        using Socket second = await ConnectFromAsync("127.0.0.12", listener);

        Assert.True(await IsRefusedAsync("127.0.0.13", listener));
        Assert.Equal(2, listener.ActiveHandshakes);
    }

    [Fact]
    public async Task Accept_PeerThatSendsNothing_LosesItsSlotAtTheFirstByteTimeoutLongBeforeTheHandshakeTimeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time));
        var limits = new SecureChannelListenerOptions
        {
            MaxConcurrentHandshakes = 1,
            MaxHandshakesPerPrefix = 1,
            ReservedForKnownSources = 0,
            FirstByteTimeout = TimeSpan.FromSeconds(2),
        };
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory, limits);
        listener.Start();
        using Socket silent = await ConnectFromAsync("127.0.3.1", listener);
        Assert.True(await IsRefusedAsync("127.0.4.1", listener));
        Assert.Equal(1, listener.ActiveHandshakes);

        time.Advance(TimeSpan.FromSeconds(1.9));
        Task<int> closed = ReceiveOrResetAsync(silent);
        Assert.False(closed.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));

        // The handshake timeout is 10 s on the same clock: only the first-byte timeout closes it now.
        Assert.Equal(0, await closed.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, listener.ActiveHandshakes);
    }

    [Fact]
    public async Task Accept_RefusedFlood_LogsABoundedNumberOfLines()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var lines = new List<string>();
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time));
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory,
            new SecureChannelListenerOptions { MaxHandshakesPerPrefix = 1 }, new ListLoggerFactory(lines));
        listener.Start();
        using Socket holder = await ConnectFromAsync("127.0.5.1", listener);

        for (int i = 2; i < 52; i++)
        {
            Assert.True(await IsRefusedAsync($"127.0.5.{i}", listener));
        }

        lock (lines)
        {
            // 50 refusals of one prefix: two lines a minute for it.
            Assert.Equal(2, lines.Count);
            Assert.All(lines, line => Assert.Contains("PrefixSlotsFull", line, StringComparison.Ordinal));
            Assert.Contains("127.0.5.0/24", lines[0], StringComparison.Ordinal);
        }
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

    /// <summary>Connects from <paramref name="source"/>, a loopback address (Linux routes all of 127/8 to lo).</summary>
    internal static async Task<Socket> ConnectFromAsync(string source, SecureChannelListener listener)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        await socket.ConnectAsync(listener.LocalEndPoint);
        return socket;
    }

    /// <summary>Connects from <paramref name="source"/> and reads: whether the listener closed the connection unanswered.</summary>
    internal static async Task<bool> IsRefusedAsync(string source, SecureChannelListener listener)
    {
        try
        {
            using Socket socket = await ConnectFromAsync(source, listener);
            return await socket.ReceiveAsync(new byte[1]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    /// <summary>Reads once: 0 when the listener closed or reset the connection.</summary>
    internal static async Task<int> ReceiveOrResetAsync(Socket socket)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[1]);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }
}
