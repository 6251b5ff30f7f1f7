using System.Net;
using System.Net.Sockets;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;

namespace SecureMigration.Cli.Live;

/// <summary>
/// The channel to a migration's destination, opened (TCP and the TLS 1.3 handshake, no ticket yet) as soon as the migration
/// starts, while its first steps run (ADR 0029): the first attempt sends its ticket on it when it is still fresh, so the
/// handshake is off the migration's path; an agent may hand it one it kept open since its last migration there (ADR 0030). An
/// attempt that finds it failed or stale, or closed by the destination with its ticket unread, and every later attempt,
/// connects anew.
/// A channel that carried no ticket is closed once it is stale (no attempt may use it then), or with this object if that
/// comes first: the destination sees a handshake without a ticket, and holds nothing for it longer than it must.
/// </summary>
internal sealed class EarlyChannel : IAsyncDisposable
{
    private readonly SecureChannelFactory _factory;
    private readonly EndPoint _destination;
    private readonly CancellationTokenSource _stop;
    private readonly ITimer _expiry;
    private Task<OpenedChannel>? _opening;
    private Task? _expired;

    /// <summary>Starts opening the channel.</summary>
    /// <param name="factory">This host's channel factory.</param>
    /// <param name="destination">The destination agent's address.</param>
    /// <param name="peerName">The destination's identity.</param>
    /// <param name="warm">A channel to the destination opened before the migration (<see cref="WarmChannels"/>), used in place of a
    /// new one; or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the opening (the migration ended).</param>
    public EarlyChannel(SecureChannelFactory factory, EndPoint destination, string peerName, Task<OpenedChannel>? warm,
        CancellationToken cancellationToken)
    {
        _factory = factory;
        _destination = destination;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _opening = Opening = warm is null ? factory.OpenAsync(destination, peerName, _stop.Token) : UntilStoppedAsync(warm, _stop.Token);
        // When the channel stops being fresh (OpenedChannel.IsFresh: half the ticket wait timeout since the opening began), an
        // attempt would not use it: it is closed then, unless an attempt took it.
        _expiry = factory.TimeProvider.CreateTimer(_ => Volatile.Write(ref _expired, CloseUnusedAsync()), null,
            factory.TicketWaitTimeout / 2, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets the opening (tests wait for it to have ended).</summary>
    internal Task<OpenedChannel> Opening { get; }

    /// <summary>Connects an attempt's <paramref name="ticket"/>: on the channel opened early when this is the first attempt and
    /// the channel is fresh, else on a new connection.</summary>
    /// <param name="ticket">The attempt's ticket.</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    /// <returns>The established connection.</returns>
    public async Task<MigrationConnection> ConnectAsync(MigrationTicket ticket, CancellationToken cancellationToken)
    {
        if (await TakeOpenedAsync(cancellationToken).ConfigureAwait(false) is { } opened)
        {
            // A channel opened under credentials or a peer policy since reloaded checked its peer against the old ones.
            if (opened.IsFresh && ReferenceEquals(opened.Generation, _factory.Generation))
            {
                try
                {
                    return await opened.SendTicketAsync(ticket, cancellationToken).ConfigureAwait(false);
                }
                catch (HandshakeFailedException e) when (e.TicketNotRead)
                {
                    // The destination closed the channel with the ticket unread (it reloaded its credentials, had waited long
                    // enough, or gave the place to a newer channel): its nonce is not spent, so the same ticket goes on a new
                    // connection. Any other break leaves the ticket's fate unknown and is the attempt's failure.
                }
            }
            else
            {
                await opened.DisposeAsync().ConfigureAwait(false);
            }
        }

        return await _factory.ConnectAsync(_destination, ticket, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops an opening still under way and closes a channel that carried no ticket.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _expiry.DisposeAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await CloseUnusedAsync().ConfigureAwait(false);
            if (Volatile.Read(ref _expired) is { } expired)
            {
                await expired.ConfigureAwait(false);
            }
        }
        finally
        {
            _stop.Dispose();
        }
    }

    /// <summary>A warm channel's opening, which runs on its own: when the migration stops first, what it opens is closed.</summary>
    private static async Task<OpenedChannel> UntilStoppedAsync(Task<OpenedChannel> opening, CancellationToken stop)
    {
        try
        {
            return await opening.WaitAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            _ = opening.ContinueWith(opened => opened.Result.DisposeAsync().AsTask(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>Closes the channel opened early unless an attempt took it; its opening's failure is no one's to see then.</summary>
    private async Task CloseUnusedAsync()
    {
        if (await TakeOpenedAsync(CancellationToken.None, failuresToo: true).ConfigureAwait(false) is { } unused)
        {
            await unused.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The channel opened early, once; <see langword="null"/> when it was taken already, or its connection broke or was stopped
    /// (a new connection then says why, if it fails too). A refusal (the handshake failed, the destination cannot be reached) is
    /// the attempt's: a new connection would only repeat it, so it is thrown, unless <paramref name="failuresToo"/> (the channel
    /// is being closed, and no failure of its opening is anyone's to see).
    /// </summary>
    private async Task<OpenedChannel?> TakeOpenedAsync(CancellationToken cancellationToken, bool failuresToo = false)
    {
        if (Interlocked.Exchange(ref _opening, null) is not { } opening)
        {
            return null;
        }

        try
        {
            // Not abandoned on the attempt's token: the opening stops with the migration's (linked into it), and what it
            // opened is closed here or by the caller.
            return await opening.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException ||
            // The factory reports a connection that broke or went silent as a handshake failure of these reasons.
            e is HandshakeFailedException { Reason: HandshakeFailureReason.Truncated or HandshakeFailureReason.Timeout } ||
            (e is OperationCanceledException && !cancellationToken.IsCancellationRequested) ||
            failuresToo)
        {
            return null;
        }
    }
}
