using SecureMigration.Identity;

namespace SecureMigration.Channel.Tickets;

/// <summary>
/// Decides, on the receiving end, whether a well-formed, bound, fresh ticket may proceed: for example whether
/// its ownership epoch is current.
/// </summary>
public interface ITicketValidator
{
    /// <summary>Validates a ticket from an authenticated peer.</summary>
    /// <param name="ticket">The ticket.</param>
    /// <param name="peer">The authenticated peer.</param>
    /// <param name="cancellationToken">Cancels the validation (the handshake timeout).</param>
    /// <returns>The decision.</returns>
    ValueTask<TicketDecision> ValidateAsync(MigrationTicket ticket, PeerIdentity peer, CancellationToken cancellationToken);
}
