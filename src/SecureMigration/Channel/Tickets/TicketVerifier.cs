using SecureMigration.Identity;
using SecureMigration.Text;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// The receiving end's checks of a decoded, session-bound ticket. The ticket's expiry was set on the source's clock;
/// <paramref name="clockSkew"/> is how far the two hosts' clocks may disagree either way.
/// </summary>
internal sealed class TicketVerifier(string localIdentity, TimeSpan maxLifetime, TimeSpan clockSkew, TicketReplayCache replayCache,
    ITicketValidator? validator, TimeProvider timeProvider)
{
    public async ValueTask<(TicketRefusal Refusal, string Detail)> VerifyAsync(MigrationTicket ticket, PeerIdentity peer,
        CancellationToken cancellationToken)
    {
        if (!string.Equals(ticket.DestinationIdentity, localIdentity, StringComparison.OrdinalIgnoreCase))
        {
            return (TicketRefusal.WrongDestination, $"The ticket is for '{UntrustedText.Bound(ticket.DestinationIdentity, 300)}', but " +
                $"this host is '{localIdentity}'.");
        }

        if (!peer.IsSharedPsk && !peer.Names.Contains(ticket.SourceIdentity, StringComparer.OrdinalIgnoreCase))
        {
            return (TicketRefusal.WrongSource, $"The ticket names source '{UntrustedText.Bound(ticket.SourceIdentity, 300)}', but the " +
                $"peer authenticated as [{UntrustedText.Bound(string.Join(", ", peer.Names), 300)}].");
        }

        DateTimeOffset now = timeProvider.GetUtcNow();
        if (ticket.ExpiresAt + clockSkew <= now)
        {
            return (TicketRefusal.Expired,
                $"The ticket expired at {ticket.ExpiresAt:u} on the source's clock; this host's clock reads {now:u}, " +
                    $"{now - ticket.ExpiresAt} later, " +
                $"beyond the {clockSkew} clock skew allowed. Start the migration again, and check both hosts' clocks (NTP) if it recurs.");
        }

        if (ticket.ExpiresAt - now > maxLifetime + clockSkew)
        {
            return (TicketRefusal.LifetimeTooLong,
                $"The ticket is valid until {ticket.ExpiresAt:u} on the source's clock, {ticket.ExpiresAt - now} after this host's clock " +
                    $"({now:u}): more than " +
                $"the {maxLifetime} lifetime this host accepts plus the {clockSkew} clock skew. Either the source's clock is ahead of " +
                    $"this host's " +
                "(check both hosts' clocks, NTP) or it issues tickets valid for too long.");
        }

        // A ticket stays acceptable until its expiry plus the skew, so its nonce is remembered as long.
        if (!replayCache.TryAdd(ticket.Nonce, ticket.ExpiresAt + clockSkew, now))
        {
            return (TicketRefusal.Replayed, $"The ticket for migration {ticket.MigrationId} was presented before (nonce seen).");
        }

        if (validator is not null)
        {
            TicketDecision decision = await validator.ValidateAsync(ticket, peer, cancellationToken).ConfigureAwait(false);
            if (!decision.IsAccepted)
            {
                return (decision.IsBusy ? TicketRefusal.Busy : TicketRefusal.Vetoed, decision.RefusalReason!);
            }
        }

        return (TicketRefusal.None, string.Empty);
    }
}
