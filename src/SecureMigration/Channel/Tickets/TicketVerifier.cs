namespace SecureMigration.Channel.Tickets;

/// <summary>The receiving end's checks of a decoded, session-bound ticket.</summary>
internal sealed class TicketVerifier(string localIdentity, TimeSpan maxLifetime, TicketReplayCache replayCache,
    ITicketValidator? validator, TimeProvider timeProvider)
{
    public async ValueTask<(TicketRefusal Refusal, string Detail)> VerifyAsync(MigrationTicket ticket, PeerIdentity peer, CancellationToken cancellationToken)
    {
        if (!string.Equals(ticket.DestinationIdentity, localIdentity, StringComparison.OrdinalIgnoreCase))
        {
            return (TicketRefusal.WrongDestination, $"The ticket is for '{ticket.DestinationIdentity}', but this host is '{localIdentity}'.");
        }

        if (!peer.IsSharedPsk && !peer.Names.Contains(ticket.SourceIdentity, StringComparer.OrdinalIgnoreCase))
        {
            return (TicketRefusal.WrongSource, $"The ticket names source '{ticket.SourceIdentity}', but the peer authenticated as [{string.Join(", ", peer.Names)}].");
        }

        DateTimeOffset now = timeProvider.GetUtcNow();
        if (ticket.ExpiresAt <= now)
        {
            return (TicketRefusal.Expired, $"The ticket expired at {ticket.ExpiresAt:u}; it is now {now:u}.");
        }

        if (ticket.ExpiresAt - now > maxLifetime)
        {
            return (TicketRefusal.LifetimeTooLong, $"The ticket is valid until {ticket.ExpiresAt:u}, more than the {maxLifetime} this host accepts.");
        }

        if (!replayCache.TryAdd(ticket.Nonce, ticket.ExpiresAt, now))
        {
            return (TicketRefusal.Replayed, $"The ticket for migration {ticket.MigrationId} was presented before (nonce seen).");
        }

        if (validator is not null)
        {
            TicketDecision decision = await validator.ValidateAsync(ticket, peer, cancellationToken).ConfigureAwait(false);
            if (!decision.IsAccepted)
            {
                return (TicketRefusal.Vetoed, decision.RefusalReason!);
            }
        }

        return (TicketRefusal.None, string.Empty);
    }
}
