using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Threading;
using SecureMigration.Transport;

namespace SecureMigration.Tunnel;

/// <summary>
/// The source end of a migration tunnel: it accepts the hypervisor's plain connections on a local address and
/// carries each over its own secure channel to a <see cref="TunnelAcceptor"/>. If the channel cannot be
/// established, the hypervisor's connection is reset; nothing ever leaves in plaintext.
/// </summary>
public sealed class TunnelConnector : IAsyncDisposable
{
    private readonly SecureChannelFactory _factory;
    private readonly EndPoint _remote;
    private readonly string _peerName;
    private readonly TunnelOptions _options;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConnectionSet _connections = new();
    private readonly HashSet<int> _allowedUsers;
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>Creates the source end; call <see cref="Start"/> to begin listening.</summary>
    /// <param name="listen">The local address the hypervisor connects to: a loopback address or a unix socket
    /// (<see cref="UnixDomainSocketEndPoint"/>), unless <see cref="TunnelOptions.AllowRemoteClients"/> is set.</param>
    /// <param name="remote">The address of the destination's <see cref="TunnelAcceptor"/>.</param>
    /// <param name="peerName">The destination's identity (its certificate name or the PSK host name).</param>
    /// <param name="factory">The secure-channel factory with this end's credentials.</param>
    /// <param name="options">Tunnel settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where tunnel events are logged.</param>
    /// <exception cref="ArgumentException"><paramref name="listen"/> is not loopback or a unix socket and remote clients are not
    /// allowed.</exception>
    public TunnelConnector(EndPoint listen, EndPoint remote, string peerName, SecureChannelFactory factory, TunnelOptions? options = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentException.ThrowIfNullOrWhiteSpace(peerName);
        ArgumentNullException.ThrowIfNull(factory);
        _options = options?.Snapshot() ?? new TunnelOptions();
        _options.Validate();
        _factory = factory;
        _remote = remote;
        _peerName = peerName;
        bool local = listen is UnixDomainSocketEndPoint || (listen is IPEndPoint ip && IPAddress.IsLoopback(ip.Address));
        if (!local && !_options.AllowRemoteClients)
        {
            throw new ArgumentException(
                $"The tunnel's source end would listen on {listen}, where any host that reaches it could migrate under this host's " +
                    $"credentials. " +
                "Listen on a loopback address or a unix socket, or set TunnelOptions.AllowRemoteClients ('secmig tunnel connect " +
                    "--allow-remote-clients').",
                nameof(listen));
        }

        _allowedUsers = [.. _options.AllowedLocalUsers.DefaultIfEmpty(CurrentUser())];
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Tunnel");
        _listener = listen is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(listen);
    }

    /// <summary>Gets the local address the hypervisor connects to.</summary>
    public EndPoint LocalEndPoint => _listener.LocalEndPoint!;

    /// <summary>Starts accepting the hypervisor's connections.</summary>
    public void Start()
    {
        _listener.Listen(64);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Stops listening and resets every open tunnelled connection.</summary>
    /// <returns>A task that completes when all connections have ended.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await _connections.WhenAllEnded().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket plain;
            try
            {
                plain = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _connections.Add(CarryAsync(plain));
        }
    }

    private async Task CarryAsync(Socket plain)
    {
        // Off the accept loop's thread first: checking the local peer reads the kernel's whole TCP table.
        await ThreadPoolHop.IfNeeded();
        if (!IsAllowedClient(plain, out string who))
        {
            // Nothing is sent anywhere for a user the operator did not name: the connection is reset unread.
            Log.LocalClientRefused(_logger, plain.RemoteEndPoint, who);
            Reset(plain);
            return;
        }

        if (plain.AddressFamily != AddressFamily.Unix)
        {
            plain.NoDelay = true;
        }

        StreamDuplexPipe? transport = null;
        try
        {
            try
            {
                transport = await SocketTransport.ConnectPipeAsync(_remote, _options.ConnectTimeout, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !_stopping.IsCancellationRequested))
            {
                // Nothing answered: not a channel failure, and no handshake was attempted.
                Log.RemoteUnreachable(_logger, plain.RemoteEndPoint, _remote,
                    e is SocketException socket ? socket.Message : $"no answer within {_options.ConnectTimeout.TotalSeconds:0.#} s");
                Reset(plain);
                return;
            }

            MigrationTicket ticket = MigrationTicket.Create(_options.VmId, _factory.LocalIdentity, _peerName, 0, _options.TicketLifetime);
            SecureChannel channel = await _factory.ConnectAsync(transport, ticket, _stopping.Token).ConfigureAwait(false);
            await using (channel.ConfigureAwait(false))
            {
                Log.TunnelOpened(_logger, plain.RemoteEndPoint, _remote, channel.Peer.Name);
                StreamDuplexPipe owned = transport;
                SpliceOutcome outcome = await TunnelSplicer.SpliceAsync(plain, channel,
                    () => { owned.Abort(); return ValueTask.CompletedTask; }, _options, _stopping.Token).ConfigureAwait(false);
                Log.TunnelClosed(_logger, channel.Peer.Name, outcome, channel.BytesSent, channel.BytesReceived);
            }
        }
        catch (HandshakeFailedException e)
        {
            Log.TunnelRefused(_logger, plain.RemoteEndPoint, _remote, e.Reason, e.Message);
            Reset(plain);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            Log.TunnelRefused(_logger, plain.RemoteEndPoint, _remote, HandshakeFailureReason.Truncated, e.Message);
            Reset(plain);
        }
        finally
        {
            if (transport is not null)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Whether the connection comes from a local user this tunnel may carry (or, when allowed, from another host).</summary>
    private bool IsAllowedClient(Socket plain, out string who)
    {
        if (plain.RemoteEndPoint is IPEndPoint remote && !IPAddress.IsLoopback(remote.Address))
        {
            who = "a remote host";
            return _options.AllowRemoteClients;
        }

        int? uid = LocalPeerCredentials.TryGetUid(plain);
        who = uid is { } known ? $"local user {known}" : "a local user that could not be identified";
        return uid is { } user && _allowedUsers.Contains(user);
    }

    private static int CurrentUser() => OperatingSystem.IsWindows() ? -1 : (int)Storage.Posix.EffectiveUserId();

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already closed by the peer.
        }

        socket.Close();
    }
}
