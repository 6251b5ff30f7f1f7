using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Live;

/// <summary>Refuses, right after the handshake and before any VM byte moves, a ticket for a VM this agent does not serve.</summary>
internal sealed class ServedVmsValidator(IReadOnlyCollection<string> vmIds) : ITicketValidator
{
    public ValueTask<TicketDecision> ValidateAsync(MigrationTicket ticket, PeerIdentity peer, CancellationToken cancellationToken) =>
        ValueTask.FromResult(vmIds.Contains(ticket.VmId, StringComparer.Ordinal)
            ? TicketDecision.Accept
            : TicketDecision.Refuse($"this agent does not serve VM '{ticket.VmId}' (it serves {string.Join(", ", vmIds)})"));
}
