using System.Net;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;
using SecureMigration.Transport;

namespace SecureMigration.Channel;

/// <summary>
/// A mutually authenticated TLS 1.3 channel to a destination that has not yet been given its ticket
/// (<see cref="SecureChannelFactory.OpenAsync"/>): a source opens it while its migration's first steps run and sends the ticket
/// once they are durable, so the handshake is not on the migration's path. One ticket at most; dispose it when none is sent
/// (the destination sees the channel closed cleanly before a ticket, which costs it the handshake and nothing else). An agent keeps
/// one open for its next migration to the same destination (ADR 0030).
/// </summary>
public sealed class OpenedChannel : IAsyncDisposable
{
    private readonly ClientHandshake _handshake;
    private readonly StreamDuplexPipe _transport;
    private readonly EndPoint _remote;
    private readonly TimeProvider _time;
    private readonly long _openedAt;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeSpan _ticketWait;
    private int _used;

    internal OpenedChannel(ClientHandshake handshake, StreamDuplexPipe transport, EndPoint remote, TimeProvider time,
        TimeSpan handshakeTimeout, TimeSpan ticketWait, long startedAt)
    {
        _handshake = handshake;
        _transport = transport;
        _remote = remote;
        _time = time;
        _handshakeTimeout = handshakeTimeout;
        _ticketWait = ticketWait;
        _openedAt = startedAt;
    }

    /// <summary>Gets the authenticated destination.</summary>
    public PeerIdentity Peer => _handshake.Peer;

    /// <summary>Gets the credentials and peer policy the handshake ran under (<see cref="SecureChannelFactory.Generation"/> then):
    /// another than the factory's now means they were reloaded since, and the peer was checked against the old ones.</summary>
    internal object Generation => _handshake.Generation;

    /// <summary>
    /// Gets whether the destination can still be expected to wait for the ticket: less than half the ticket wait timeout
    /// (<see cref="SecureChannelOptions.TicketWaitTimeout"/>) has passed since this end began the handshake (the destination's
    /// own wait, counted from the handshake's end there, runs out after that). A channel no longer fresh should be disposed and
    /// a new one opened, rather than risk a ticket sent into a connection the destination is closing.
    /// </summary>
    public bool IsFresh => _time.GetElapsedTime(_openedAt) < _ticketWait / 2;

    /// <summary>
    /// Sends <paramref name="ticket"/>, which must name the destination this channel was opened to, and waits for the
    /// destination to accept it; returns the channel with its connection (which owns the socket from then on).
    /// </summary>
    /// <param name="ticket">The ticket for this migration.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The established channel with its connection.</returns>
    /// <exception cref="HandshakeFailedException">The ticket names another destination (it was not sent), or the destination
    /// refused it, or the exchange failed; the connection is closed.</exception>
    /// <exception cref="InvalidOperationException">A ticket was already sent, or the channel was disposed.</exception>
    public async Task<ChannelConnection> SendTicketAsync(MigrationTicket ticket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (Interlocked.Exchange(ref _used, 1) != 0)
        {
            throw new InvalidOperationException("This channel already carried a ticket, or was disposed: open another.");
        }

        try
        {
            SecureChannel channel = await _handshake.PresentAsync(ticket, _handshakeTimeout, cancellationToken).ConfigureAwait(false);
            return new ChannelConnection(channel, _transport, _remote, _time);
        }
        catch
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes the channel unless a ticket was sent on it (the connection then owns it), wiping the handshake's
    /// secrets.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _used, 1) == 0)
        {
            try
            {
                await _handshake.CloseNotUsedAsync().ConfigureAwait(false);
            }
            finally
            {
                await _transport.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
