using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Channel;
using SecureMigration.Transport;

namespace SecureMigration.Tunnel;

/// <summary>
/// The destination end of a migration tunnel: it accepts secure channels and forwards each to the local
/// hypervisor's address. The forward connection is opened only after the peer is authenticated and its ticket
/// accepted, so a refused peer never reaches the hypervisor.
/// </summary>
public sealed class TunnelAcceptor : IAsyncDisposable
{
    private readonly SecureChannelListener _listener;
    private readonly EndPoint _forward;
    private readonly TunnelOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConnectionSet _connections = new();
    private Task _acceptLoop = Task.CompletedTask;

    /// <summary>Creates the destination end; call <see cref="Start"/> to begin listening.</summary>
    /// <param name="listen">The address the source's tunnel connects to.</param>
    /// <param name="forward">The local hypervisor's migration address.</param>
    /// <param name="factory">The secure-channel factory with this end's credentials and peer policy.</param>
    /// <param name="listenerOptions">Handshake limits, or <see langword="null"/> for the defaults.</param>
    /// <param name="options">Tunnel settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where tunnel events are logged.</param>
    /// <exception cref="ArgumentException">The factory allows every peer the CA vouches for and <see cref="TunnelOptions.AllowAnyPeer"/> is
    /// not set.</exception>
    public TunnelAcceptor(IPEndPoint listen, EndPoint forward, SecureChannelFactory factory,
        SecureChannelListenerOptions? listenerOptions = null,
        TunnelOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(factory);
        _options = options?.Snapshot() ?? new TunnelOptions();
        _options.Validate();
        if (!factory.RestrictsPeers && !_options.AllowAnyPeer)
        {
            throw new ArgumentException(
                "The tunnel's destination end would serve every host the CA vouches for: name the sources allowed to reach this " +
                    "hypervisor " +
                "(PeerPolicy.AllowedPeers, 'secmig tunnel accept --allow-peer NAME') or pin their keys, or set " +
                    "TunnelOptions.AllowAnyPeer " +
                "('--allow-any-peer') to serve them all.", nameof(factory));
        }

        _forward = forward;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Tunnel");
        _listener = new SecureChannelListener(listen, factory, listenerOptions, loggerFactory);
    }

    /// <summary>Gets the address the source's tunnel connects to.</summary>
    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>Starts accepting secure channels.</summary>
    public void Start()
    {
        _listener.Start();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Stops listening and resets every open tunnelled connection.</summary>
    /// <returns>A task that completes when all connections have ended.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        await _connections.WhenAllEnded().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            ChannelConnection? accepted;
            try
            {
                accepted = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (accepted is null)
            {
                return;
            }

            _connections.Add(ForwardAsync(accepted));
        }
    }

    private async Task ForwardAsync(ChannelConnection accepted)
    {
        await using (accepted.ConfigureAwait(false))
        {
            Socket plain;
            try
            {
                plain = await SocketTransport.ConnectAsync(_forward, _options.ConnectTimeout, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                Log.ForwardUnreachable(_logger, accepted.Channel.Peer.Name, _forward, e.Message);
                return;
            }

            Log.TunnelOpened(_logger, accepted.RemoteEndPoint, _forward, accepted.Channel.Peer.Name);
            SpliceOutcome outcome = await TunnelSplicer.SpliceAsync(plain, accepted.Channel, accepted.AbortAsync, _options, _stopping.Token)
                .ConfigureAwait(false);
            Log.TunnelClosed(_logger, accepted.Channel.Peer.Name, outcome, accepted.Channel.BytesSent, accepted.Channel.BytesReceived);
        }
    }
}
