using System.Net;
using System.Net.Sockets;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;

namespace SecureMigration.Cli.Live;

/// <summary>
/// The channel to a migration's destination, opened (TCP and the TLS 1.3 handshake, no ticket yet) as soon as the migration
/// starts, while its first steps run (ADR 0029): the first attempt sends its ticket on it when it is still fresh, so the
/// handshake is off the migration's path. An attempt that finds it failed or stale, and every later attempt, connects anew;
/// a channel that carried no ticket is closed with this object (the destination then sees a handshake without a ticket).
/// </summary>
internal sealed class EarlyChannel : IAsyncDisposable
{
    private readonly SecureChannelFactory _factory;
    private readonly EndPoint _destination;
    private readonly CancellationTokenSource _stop;
    private Task<OpenedChannel>? _opening;

    /// <summary>Starts opening the channel.</summary>
    /// <param name="factory">This host's channel factory.</param>
    /// <param name="destination">The destination agent's address.</param>
    /// <param name="peerName">The destination's identity.</param>
    /// <param name="cancellationToken">Stops the opening (the migration ended).</param>
    public EarlyChannel(SecureChannelFactory factory, EndPoint destination, string peerName, CancellationToken cancellationToken)
    {
        _factory = factory;
        _destination = destination;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _opening = factory.OpenAsync(destination, peerName, _stop.Token);
    }

    /// <summary>Connects an attempt's <paramref name="ticket"/>: on the channel opened early when this is the first attempt and
    /// the channel is fresh, else on a new connection.</summary>
    /// <param name="ticket">The attempt's ticket.</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    /// <returns>The established connection.</returns>
    public async Task<MigrationConnection> ConnectAsync(MigrationTicket ticket, CancellationToken cancellationToken)
    {
        if (await TakeOpenedAsync(cancellationToken).ConfigureAwait(false) is { } opened)
        {
            if (opened.IsFresh)
            {
                return await opened.SendTicketAsync(ticket, cancellationToken).ConfigureAwait(false);
            }

            await opened.DisposeAsync().ConfigureAwait(false);
        }

        return await _factory.ConnectAsync(_destination, ticket, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops an opening still under way and closes a channel that carried no ticket.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            if (await TakeOpenedAsync(CancellationToken.None, failuresToo: true).ConfigureAwait(false) is { } unused)
            {
                await unused.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _stop.Dispose();
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
            (e is OperationCanceledException && !cancellationToken.IsCancellationRequested) ||
            failuresToo)
        {
            return null;
        }
    }
}
