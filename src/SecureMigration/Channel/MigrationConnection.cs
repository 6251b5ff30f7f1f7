using System.IO.Pipelines;
using System.Net;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Channel;

/// <summary>
/// An authenticated migration connection, as the coordinator takes it: a duplex pipe of plaintext, the ticket both ends
/// agreed on and the peer that presented it. <see cref="ChannelConnection"/> is the TLS 1.3 channel over a socket; any
/// other transport (an in-memory pair in tests, a pipe a host already authenticated) derives from this class the same
/// way (see ADR 0013).
/// </summary>
public abstract class MigrationConnection : IAsyncDisposable
{
    private readonly TimeSpan _closeTimeout;
    private readonly TimeProvider _timeProvider;

    /// <summary>Initializes the connection's description.</summary>
    /// <param name="pipe">The authenticated plaintext in both directions.</param>
    /// <param name="ticket">The migration ticket both ends agreed on.</param>
    /// <param name="peer">The authenticated peer.</param>
    /// <param name="remoteEndPoint">The peer's address, for logs.</param>
    /// <param name="closeTimeout">How long <see cref="DisposeAsync"/> waits for a graceful close before it drops the connection.</param>
    /// <param name="timeProvider">The clock of <paramref name="closeTimeout"/>, or <see langword="null"/> for the system clock.</param>
    protected MigrationConnection(IDuplexPipe pipe, MigrationTicket ticket, PeerIdentity peer, EndPoint remoteEndPoint,
        TimeSpan closeTimeout, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(remoteEndPoint);
        ArgumentOutOfRangeException.ThrowIfLessThan(closeTimeout, TimeSpan.Zero);
        Pipe = pipe;
        Ticket = ticket;
        Peer = peer;
        RemoteEndPoint = remoteEndPoint;
        _closeTimeout = closeTimeout;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the authenticated plaintext: read the peer's data from its input, write to the peer on its output.</summary>
    public IDuplexPipe Pipe { get; }

    /// <summary>Gets the migration ticket both ends agreed on.</summary>
    public MigrationTicket Ticket { get; }

    /// <summary>Gets the authenticated peer.</summary>
    public PeerIdentity Peer { get; }

    /// <summary>Gets the peer's network address, for logs.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>Drops the connection without a clean close, so the peer sees a truncated stream (a reset).</summary>
    /// <returns>A task that completes when the connection has stopped.</returns>
    public ValueTask AbortAsync() => AbortCoreAsync();

    /// <summary>
    /// Closes the connection gracefully. A peer that stopped reading cannot hold the close: after the close timeout (on
    /// the connection's clock) the connection is dropped as by <see cref="AbortAsync"/> instead.
    /// </summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Task closing = CloseCoreAsync().AsTask();
        if (await Task.WhenAny(closing, Task.Delay(_closeTimeout, _timeProvider)).ConfigureAwait(false) != closing)
        {
            await AbortCoreAsync().ConfigureAwait(false);
        }

        try
        {
            await closing.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Dropped: the peer sees a truncated stream.
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Drops the connection at once; the peer must see a truncated stream, not a clean end.</summary>
    /// <returns>A task that completes when the connection has stopped.</returns>
    protected abstract ValueTask AbortCoreAsync();

    /// <summary>Ends both directions cleanly and releases the transport; <see cref="DisposeAsync"/> bounds the wait.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    protected abstract ValueTask CloseCoreAsync();
}
