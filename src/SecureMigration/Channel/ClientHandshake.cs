using System.Diagnostics;
using SecureMigration.Channel.Records;
using SecureMigration.Channel.Tickets;
using SecureMigration.Channel.Tls;
using SecureMigration.Identity;

namespace SecureMigration.Channel;

/// <summary>
/// The source's TLS 1.3 handshake, done and checked against the destination's name, waiting to present its ticket: it holds
/// the record layer and the ticket's binding key until <see cref="PresentAsync"/> or <see cref="Dispose"/>, which wipe them.
/// </summary>
internal sealed class ClientHandshake(SecureChannelFactory factory, SecureChannelOptions options, TlsEngine engine, HandshakeState state,
    RecordLayer records, string destinationIdentity, TimeSpan handshakeTook, Activity? activity) : IDisposable
{
    private int _ended;

    /// <summary>Gets the authenticated destination.</summary>
    public PeerIdentity Peer => state.Peer!;

    /// <summary>Gets the factory's options the handshake ran under (<see cref="SecureChannelFactory.Generation"/> then).</summary>
    public object Generation => options;

    /// <summary>Gets how long the TLS handshake took.</summary>
    public TimeSpan HandshakeTook => handshakeTook;

    /// <summary>
    /// Presents <paramref name="ticket"/> (it must name the destination this channel was opened to) and waits for the
    /// destination's acceptance, under the handshake timeout; returns the established channel. Whatever happens, the handshake's
    /// secrets are wiped; on failure the record layer is closed too.
    /// </summary>
    /// <exception cref="HandshakeFailedException">The ticket names another destination (it was not sent), or the destination
    /// refused it, or the exchange failed.</exception>
    /// <param name="ticket">The ticket.</param>
    /// <param name="mayTake">How long the exchange may take.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <returns>The established channel.</returns>
    public async Task<SecureChannel> PresentAsync(MigrationTicket ticket, TimeSpan mayTake, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Interlocked.Exchange(ref _ended, 1) != 0, this);
        long started = options.TimeProvider.GetTimestamp();
        try
        {
            if (!string.Equals(ticket.DestinationIdentity, destinationIdentity, StringComparison.OrdinalIgnoreCase))
            {
                throw new HandshakeFailedException(HandshakeFailureReason.TicketRefused, $"The ticket is for " +
                    $"'{ticket.DestinationIdentity}', but the channel was opened to '{destinationIdentity}'; the ticket was not sent.");
            }

            TicketCodec.EnsureEncodable(ticket);
            PeerIdentity peer = Peer;
            byte[] leftover = await factory.GuardAsync("source", options, state, activity, mayTake, cancellationToken, async token =>
            {
                await TicketExchange.SendTicketAsync(records, ticket, state.BindingKey!, token).ConfigureAwait(false);
                (TicketRefusal refusal, string reason, byte[] rest) =
                    await TicketExchange.ReceiveAckAsync(records, ticket.Nonce, state.BindingKey!, token).ConfigureAwait(false);
                if (refusal != TicketRefusal.None)
                {
                    throw new HandshakeFailedException(
                        refusal == TicketRefusal.Busy ? HandshakeFailureReason.DestinationBusy : HandshakeFailureReason.TicketRefused,
                        $"The destination '{peer.Name}' refused the migration ticket ({refusal}): " +
                            SecureChannelFactory.DestinationReason(reason));
                }

                return rest;
            }).ConfigureAwait(false);
            return factory.Completed("source", options, records, peer, ticket, leftover,
                handshakeTook + options.TimeProvider.GetElapsedTime(started), activity);
        }
        catch
        {
            records.Dispose();
            throw;
        }
        finally
        {
            End();
        }
    }

    /// <summary>Ends the channel without a ticket the clean way (TLS close_notify, bounded), so the destination sees a channel that
    /// was not needed rather than a cut one, then disposes it.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask CloseNotUsedAsync()
    {
        if (Volatile.Read(ref _ended) == 0)
        {
            await records.TryCloseOutputAsync(options.TimeProvider).ConfigureAwait(false);
        }

        Dispose();
    }

    /// <summary>Wipes the handshake's secrets and closes the record layer, unless the ticket was presented.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            try
            {
                records.Dispose();
            }
            finally
            {
                End();
            }
        }
    }

    /// <summary>Wipes the handshake's secrets first, whatever disposing the rest throws.</summary>
    private void End()
    {
        try
        {
            state.Dispose();
        }
        finally
        {
            try
            {
                engine.Dispose();
            }
            finally
            {
                activity?.Dispose();
            }
        }
    }
}
