using System.Net;
using SecureMigration.Transport;

namespace SecureMigration.Channel;

/// <summary>
/// An authenticated channel with the connection under it, as <see cref="SecureChannelListener"/> accepts it or
/// <see cref="SecureChannelFactory.ConnectAsync(EndPoint, Tickets.MigrationTicket, CancellationToken)"/> opens it:
/// the <see cref="MigrationConnection"/> of TLS 1.3 over a socket.
/// </summary>
public sealed class ChannelConnection : MigrationConnection
{
    private readonly StreamDuplexPipe _transport;

    internal ChannelConnection(SecureChannel channel, StreamDuplexPipe transport, EndPoint remoteEndPoint, TimeProvider timeProvider)
        : base(channel, channel.Ticket, channel.Peer, remoteEndPoint, CloseTimeout, timeProvider)
    {
        Channel = channel;
        _transport = transport;
    }

    /// <summary>Gets the secure channel.</summary>
    public SecureChannel Channel { get; }

    /// <summary>Gets the bytes moved on the wire, TLS overhead included.</summary>
    internal ByteCounters WireCounters => _transport.Counters;

    /// <summary>How long a graceful close may wait for a peer that does not read.</summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Drops the socket without close_notify, so the peer sees a truncated channel (a reset).</summary>
    /// <returns>A task that completes when the channel has stopped.</returns>
    protected override async ValueTask AbortCoreAsync()
    {
        _transport.Abort();
        await Channel.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the channel (close_notify), then the socket.</summary>
    /// <returns>A task that completes when both are closed.</returns>
    protected override async ValueTask CloseCoreAsync()
    {
        await Channel.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
