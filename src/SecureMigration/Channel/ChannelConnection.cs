using System.Net;
using SecureMigration.Transport;

namespace SecureMigration.Channel;

/// <summary>
/// An authenticated channel with the connection under it, as <see cref="SecureChannelListener"/> accepts it or
/// <see cref="SecureChannelFactory.ConnectAsync(EndPoint, Tickets.MigrationTicket, CancellationToken)"/> opens it.
/// </summary>
public sealed class ChannelConnection : IAsyncDisposable
{
    private readonly StreamDuplexPipe _transport;

    internal ChannelConnection(SecureChannel channel, StreamDuplexPipe transport, EndPoint remoteEndPoint)
    {
        Channel = channel;
        _transport = transport;
        RemoteEndPoint = remoteEndPoint;
    }

    /// <summary>Gets the secure channel.</summary>
    public SecureChannel Channel { get; }

    /// <summary>Gets the peer's network address.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>Gets the bytes moved on the wire, TLS overhead included.</summary>
    public ByteCounters WireCounters => _transport.Counters;

    /// <summary>Drops the connection without close_notify, so the peer sees a truncated channel (a reset).</summary>
    /// <returns>A task that completes when the channel has stopped.</returns>
    public async ValueTask AbortAsync()
    {
        _transport.Abort();
        await Channel.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Closes the channel (close_notify) and the connection.</summary>
    /// <returns>A task that completes when both are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
