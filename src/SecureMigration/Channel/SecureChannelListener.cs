using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Channel.Limits;
using SecureMigration.Telemetry;
using SecureMigration.Transport;

namespace SecureMigration.Channel;

/// <summary>
/// Accepts TCP connections and runs the secure-channel handshake on each, under the limits of
/// <see cref="SecureChannelListenerOptions"/> (slots in total and per source prefix, a rate per prefix, a first-byte
/// timeout, slots reserved for known sources); a peer that authenticated gives its slot back and waits for its ticket in a
/// place of its own, a bounded number per peer (ADR 0030). Only authenticated channels with an accepted ticket come out of
/// <see cref="AcceptAsync"/>. A refused or failed connection is counted, logged at a bounded rate and closed without
/// a byte of the protected service; it holds no slot and writes nothing.
/// </summary>
public sealed class SecureChannelListener : IAsyncDisposable
{
    /// <summary>How many lines about refused connections one source prefix may log a minute.</summary>
    private const double RefusalLinesPerMinute = 2;

    /// <summary>How many source prefixes the refusal log tracks on their own; the others share one allowance.</summary>
    private const int RefusalPrefixesTracked = 32;

    private readonly SecureChannelFactory _factory;
    private readonly SecureChannelListenerOptions _options;
    private readonly ILogger _logger;
    private readonly HandshakeLimiter _limiter;
    private readonly WaitingChannels _waiting;

    /// <summary>What a shared-key peer's host is counted under among the waiting channels: no certificate or keyring name starts
    /// with it.</summary>
    private const string SharedKeyPeer = "\0shared-key ";

    /// <summary>A shared-key peer's host, as the waiting places count it: its IPv4 address, or the /64 of its IPv6 one (what one
    /// host holds).</summary>
    private static readonly SourcePrefixes Hosts = new(ipv4Length: 32, ipv6Length: 64);
    private readonly PeerLogLimiter _refusalLog;
    private readonly Socket _socket;
    private readonly Channel<ChannelConnection> _accepted;
    private readonly CancellationTokenSource _stopping = new();
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>Creates a listener bound to <paramref name="endPoint"/>; call <see cref="Start"/> to begin accepting.</summary>
    /// <param name="endPoint">The address and port to listen on (port 0 picks a free one).</param>
    /// <param name="factory">The factory that runs each handshake; its clock also runs the first-byte timeout and the rates.</param>
    /// <param name="options">The limits, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where refusals are logged.</param>
    /// <exception cref="ArgumentException">An option is out of range, or the first-byte timeout exceeds the handshake timeout.</exception>
    /// <exception cref="SocketException">The address cannot be bound (for example another process holds the port).</exception>
    public SecureChannelListener(IPEndPoint endPoint, SecureChannelFactory factory, SecureChannelListenerOptions? options = null,
        ILoggerFactory? loggerFactory = null)
        : this(Bind(endPoint), factory, options, loggerFactory)
    {
    }

    /// <summary>
    /// Creates a listener on a socket that is already bound: one a service manager passed in (systemd socket activation),
    /// or one bound before the host's state was opened, so a taken port costs nothing. The listener owns the socket from
    /// here on and closes it, also when this constructor throws.
    /// </summary>
    /// <param name="boundSocket">A bound TCP socket, not yet listening.</param>
    /// <param name="factory">The factory that runs each handshake; its clock also runs the first-byte timeout and the rates.</param>
    /// <param name="options">The limits, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where refusals are logged.</param>
    /// <exception cref="ArgumentException">The socket is not a bound TCP socket, an option is out of range, or the first-byte timeout
    /// exceeds the handshake timeout.</exception>
    public SecureChannelListener(Socket boundSocket, SecureChannelFactory factory, SecureChannelListenerOptions? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(boundSocket);
        try
        {
            ArgumentNullException.ThrowIfNull(factory);
            if (boundSocket.ProtocolType != ProtocolType.Tcp || boundSocket.LocalEndPoint is not IPEndPoint)
            {
                throw new ArgumentException("The socket must be a TCP socket bound to an IP address and port.", nameof(boundSocket));
            }

            _options = options?.Snapshot() ?? new SecureChannelListenerOptions();
            _options.Validate();
            if (_options.FirstByteTimeout > factory.HandshakeTimeout)
            {
                throw new ArgumentException($"SecureChannelListenerOptions.FirstByteTimeout is {_options.FirstByteTimeout}; " +
                    $"it must not exceed the handshake timeout ({factory.HandshakeTimeout}).", nameof(options));
            }
        }
        catch
        {
            boundSocket.Dispose();
            throw;
        }

        _factory = factory;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Channel.Listener");
        _limiter = new HandshakeLimiter(_options, factory.TimeProvider);
        _waiting = new WaitingChannels(_options.MaxWaitingChannelsPerPeer, _options.MaxWaitingChannels);
        _refusalLog = new PeerLogLimiter(RefusalLinesPerMinute, RefusalPrefixesTracked, factory.TimeProvider);
        _accepted = System.Threading.Channels.Channel.CreateBounded<ChannelConnection>(new BoundedChannelOptions(_options.AcceptBacklog)
        {
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _socket = boundSocket;
    }

    /// <summary>A TCP socket bound to <paramref name="endPoint"/>, for
    /// <see cref="SecureChannelListener(Socket, SecureChannelFactory, SecureChannelListenerOptions?, ILoggerFactory?)"/>.</summary>
    /// <param name="endPoint">The address and port (port 0 picks a free one).</param>
    /// <returns>The bound socket, not yet listening.</returns>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static Socket Bind(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Gets the address the listener is bound to.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Gets the number of handshakes in progress.</summary>
    public int ActiveHandshakes => _limiter.Active;

    /// <summary>Gets the number of authenticated channels waiting for their tickets.</summary>
    internal int WaitingForTickets => _waiting.Held;

    /// <summary>Starts accepting connections.</summary>
    public void Start()
    {
        _socket.Listen(128);
        ChannelTelemetry.TrackSlots(_limiter, LocalEndPoint.ToString());
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Waits for the next authenticated channel.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The channel, or <see langword="null"/> when the listener has stopped.</returns>
    public async ValueTask<ChannelConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Stops accepting and closes the listening socket; channels already returned stay open.</summary>
    /// <returns>A task that completes when the accept loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        ChannelTelemetry.UntrackSlots(_limiter);
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out ChannelConnection? pending))
        {
            await pending.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }

            var remote = (IPEndPoint)connection.RemoteEndPoint!;
            if (!_limiter.TryEnter(remote.Address, out HandshakeSource source, out HandshakeRefusal refusal))
            {
                // Closed at once with a reset: no slot, no buffer, no file; a line only within the source's log allowance.
                connection.Close(0);
                ChannelTelemetry.CountRefusal(refusal);
                ChannelTelemetry.Handshakes.Add(1, new("role", "destination"),
                    new("result", nameof(HandshakeFailureReason.TooManyHandshakes)));
                if (_refusalLog.ShouldLog(source.Name))
                {
                    Log.HandshakeLimited(_logger, remote.ToString(), refusal, _limiter.Active, source.InProgress, source.Name);
                }

                continue;
            }

            _ = HandshakeAsync(connection, remote, source);
        }

        _accepted.Writer.TryComplete();
    }

    private async Task HandshakeAsync(Socket connection, IPEndPoint remote, HandshakeSource source)
    {
        bool holdsSlot = true;
        void Release()
        {
            if (holdsSlot)
            {
                holdsSlot = false;
                _limiter.Exit(source);
            }
        }

        StreamDuplexPipe? transport = null;
        try
        {
            transport = SocketTransport.Wrap(connection);
            if (await FirstByteTimedOutAsync(transport.Input).ConfigureAwait(false))
            {
                // The slot goes back before the connection closes, so the peer sees the close only once it is free.
                Release();
                ChannelTelemetry.CountRefusal(HandshakeRefusal.FirstByteTimeout);
                ChannelTelemetry.Handshakes.Add(1, new("role", "destination"), new("result", nameof(HandshakeFailureReason.Timeout)));
                if (_refusalLog.ShouldLog(source.Name))
                {
                    Log.FirstByteTimedOut(_logger, remote.ToString(), _options.FirstByteTimeout);
                }

                await transport.DisposeAsync().ConfigureAwait(false);
                return;
            }

            (SecureChannel channel, IDisposable? place) = await _factory.AcceptAsync(transport, peer =>
            {
                // The peer proved who it is: its handshake slot goes back, and it waits for its ticket, then for the accept queue,
                // in a place of its own. A name a shared cluster key does not prove is no one's own: such peers are counted by
                // host (their address, an IPv6 one by its /64).
                Release();
                WaitingChannels.Place? place = _waiting.TryEnter(peer.IsSharedPsk ? SharedKeyPeer + Hosts.Of(remote.Address) : peer.Name);
                if (place is null)
                {
                    ChannelTelemetry.CountRefusal(HandshakeRefusal.WaitingFull);
                }

                return place;
            }, _stopping.Token).ConfigureAwait(false);
            using (place)
            {
                var accepted = new ChannelConnection(channel, transport, remote, _factory.TimeProvider);
                if (!_accepted.Writer.TryWrite(accepted) &&
                    !await TryWriteAsync(accepted).ConfigureAwait(false))
                {
                    await accepted.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is HandshakeFailedException or OperationCanceledException or IOException or ObjectDisposedException
            or SocketException or ArgumentException)
        {
            // Handshake failures are already logged and counted by the factory; a socket reset before it was wrapped
            // (SocketException, ArgumentException) is just closed. Nothing is forwarded either way.
            if (transport is null)
            {
                connection.Dispose();
            }
            else
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// Waits up to the first-byte timeout for the peer's first byte (or its close, which the handshake reports), and
    /// leaves what came unread for the handshake. Returns whether the peer stayed silent the whole time.
    /// </summary>
    private async Task<bool> FirstByteTimedOutAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(_options.FirstByteTimeout, _factory.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stopping.Token);
        try
        {
            ReadResult result = await input.ReadAsync(linked.Token).ConfigureAwait(false);
            input.AdvanceTo(result.Buffer.Start);
            return false;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            return true;
        }
    }

    private async ValueTask<bool> TryWriteAsync(ChannelConnection accepted)
    {
        try
        {
            await _accepted.Writer.WriteAsync(accepted, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException or ObjectDisposedException)
        {
            return false;
        }
    }
}
