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
    private readonly TimeProvider _timeProvider;

    internal ChannelConnection(SecureChannel channel, StreamDuplexPipe transport, EndPoint remoteEndPoint, TimeProvider timeProvider)
    {
        Channel = channel;
        _transport = transport;
        RemoteEndPoint = remoteEndPoint;
        _timeProvider = timeProvider;
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

    /// <summary>
    /// Closes the channel (close_notify) and the connection. A peer that stopped reading cannot hold the close: after
    /// <see cref="CloseTimeout"/> (on the channel options' clock) the connection is dropped instead.
    /// </summary>
    /// <returns>A task that completes when both are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Task closing = CloseGracefullyAsync();
        if (await Task.WhenAny(closing, Task.Delay(CloseTimeout, _timeProvider)).ConfigureAwait(false) != closing)
        {
            _transport.Abort();
        }

        try
        {
            await closing.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Dropped: the peer sees a truncated channel.
        }
    }

    /// <summary>How long a graceful close may wait for a peer that does not read.</summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private async Task CloseGracefullyAsync()
    {
        await Channel.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
    }
}
