using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Transport;

namespace SecureMigration.Channel;

/// <summary>
/// Accepts TCP connections and runs the secure-channel handshake on each, under per-listener and per-address
/// caps; only authenticated channels with an accepted ticket come out of <see cref="AcceptAsync"/>. A refused
/// or failed connection is logged, counted and closed without a byte of the protected service.
/// </summary>
public sealed class SecureChannelListener : IAsyncDisposable
{
    private readonly SecureChannelFactory _factory;
    private readonly SecureChannelListenerOptions _options;
    private readonly ILogger _logger;
    private readonly HandshakeLimiter _limiter;
    private readonly Socket _socket;
    private readonly Channel<ChannelConnection> _accepted;
    private readonly CancellationTokenSource _stopping = new();
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>Creates a listener; call <see cref="Start"/> to begin accepting.</summary>
    /// <param name="endPoint">The address and port to listen on (port 0 picks a free one).</param>
    /// <param name="factory">The factory that runs each handshake.</param>
    /// <param name="options">The limits, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where refusals are logged.</param>
    public SecureChannelListener(IPEndPoint endPoint, SecureChannelFactory factory, SecureChannelListenerOptions? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(factory);
        _options = options ?? new SecureChannelListenerOptions();
        _options.Validate();
        _factory = factory;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Channel.Listener");
        _limiter = new HandshakeLimiter(_options.MaxConcurrentHandshakes, _options.MaxHandshakesPerAddress);
        _accepted = System.Threading.Channels.Channel.CreateBounded<ChannelConnection>(new BoundedChannelOptions(_options.AcceptBacklog)
        {
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.Bind(endPoint);
    }

    /// <summary>Gets the address the listener is bound to.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Gets the number of handshakes in progress.</summary>
    public int ActiveHandshakes => _limiter.Active;

    /// <summary>Starts accepting connections.</summary>
    public void Start()
    {
        _socket.Listen(128);
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
            if (!_limiter.TryEnter(remote.Address, out int active, out int fromAddress))
            {
                Log.HandshakeLimited(_logger, remote.ToString(), active, fromAddress);
                ChannelMetrics.Handshakes.Add(1, new("role", "destination"), new("result", nameof(HandshakeFailureReason.TooManyHandshakes)));
                connection.Close(0);
                continue;
            }

            _ = HandshakeAsync(connection, remote);
        }

        _accepted.Writer.TryComplete();
    }

    private async Task HandshakeAsync(Socket connection, IPEndPoint remote)
    {
        StreamDuplexPipe transport = StreamDuplexPipe.Create(connection);
        try
        {
            SecureChannel channel = await _factory.AcceptAsync(transport, _stopping.Token).ConfigureAwait(false);
            var accepted = new ChannelConnection(channel, transport, remote, _factory.TimeProvider);
            if (!_accepted.Writer.TryWrite(accepted) &&
                !await TryWriteAsync(accepted).ConfigureAwait(false))
            {
                await accepted.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HandshakeFailedException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Already logged and counted by the factory; the connection is closed without forwarding a byte.
            await transport.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _limiter.Exit(remote.Address);
        }
    }

    private async ValueTask<bool> TryWriteAsync(ChannelConnection accepted)
    {
        try
        {
            await _accepted.Writer.WriteAsync(accepted, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            return false;
        }
    }
}
