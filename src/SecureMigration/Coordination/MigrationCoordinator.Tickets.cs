using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;
using SecureMigration.Text;

namespace SecureMigration.Coordination;

/// <summary>
/// The destination's complete check of an incoming ticket, done before anything is journaled or touched: a refused
/// peer costs one audit entry and, at most at a bounded rate per peer, one log line; no VM, file or admission state
/// changes.
/// </summary>
public sealed partial class MigrationCoordinator
{
    private readonly ConcurrentDictionary<string, Guid> _receiving = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, string> _receivingIds = new();

    // The tickets this coordinator's validator accepted during their handshake, with the peer that presented each: held no
    // longer than the ticket itself.
    private readonly ConditionalWeakTable<MigrationTicket, PeerIdentity> _acceptedInHandshake = [];

    // The tickets whose destination the hypervisor's own checks passed during the ticket's check (no pre-migrate hooks): the
    // migration does not ask them again. Held no longer than the ticket itself.
    private readonly ConditionalWeakTable<MigrationTicket, MigrationTicket> _destinationChecked = [];
    private long _unauditedRefusals;

    /// <summary>
    /// Creates a ticket validator for <see cref="SecureChannelOptions.TicketValidator"/> that runs this coordinator's
    /// complete check of an incoming ticket during the handshake (the peer is the ticket's source and the registry's
    /// owner at the ticket's epoch, the ticket is for this host, the VM is not running here, the migration is new and
    /// the VM is not already migrating), so a refused peer gets a typed <see cref="TicketRefusal.Vetoed"/> before any
    /// byte of a VM moves. <see cref="ReceiveAsync"/> repeats the check whether or not this validator is installed; for the
    /// very ticket and peer this validator accepted it repeats only the checks of this host's own state (the registry's
    /// record is checked again by the commit's compare-and-swap, the VM's state by the hypervisor driver before it readies
    /// the VM).
    /// </summary>
    /// <param name="next">A further validator asked after this one accepted (for example the VMs an agent serves), or
    /// <see langword="null"/>.</param>
    /// <returns>The validator.</returns>
    public ITicketValidator CreateTicketValidator(ITicketValidator? next = null) => new IncomingTicketValidator(this, next);

    /// <summary>Returns whether the ticket may proceed on this host, and why not when it may not. Changes nothing.</summary>
    private async ValueTask<TicketDecision> CheckIncomingAsync(MigrationTicket ticket, PeerIdentity peer, bool acceptedInHandshake,
        CancellationToken cancellationToken)
    {
        try
        {
            return await CheckIncomingCoreAsync(ticket, peer, acceptedInHandshake, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
        {
            return TicketDecision.Refuse($"the ownership registry could not be read ({UntrustedText.Bound(e.Message)}); nothing was done");
        }
    }

    private async ValueTask<TicketDecision> CheckIncomingCoreAsync(MigrationTicket ticket, PeerIdentity peer, bool acceptedInHandshake,
        CancellationToken cancellationToken)
    {
        if (!VmIds.IsValid(ticket.VmId))
        {
            return TicketDecision.Refuse($"the ticket's VM id '{UntrustedText.Bound(ticket.VmId, 160)}' is not a valid VM id");
        }

        if (!string.Equals(ticket.DestinationIdentity, Host, StringComparison.Ordinal))
        {
            return TicketDecision.Refuse($"the ticket is for '{UntrustedText.Bound(ticket.DestinationIdentity, 300)}', and this host is " +
                $"'{Host}'");
        }

        // A shared cluster PSK proves no host identity (every holder can claim any name); see PskChannelCredentials.
        if (!peer.IsSharedPsk && !peer.Names.Contains(ticket.SourceIdentity, StringComparer.OrdinalIgnoreCase))
        {
            return TicketDecision.Refuse($"the ticket names source '{UntrustedText.Bound(ticket.SourceIdentity, 300)}', but the peer " +
                $"proved the identity " +
                $"[{UntrustedText.Bound(string.Join(", ", peer.Names), 300)}]");
        }

        if (_journal.Latest(ticket.MigrationId) is not null || _receivingIds.ContainsKey(ticket.MigrationId))
        {
            return TicketDecision.Refuse($"migration {ticket.MigrationId} already ran on this host");
        }

        if (_receiving.ContainsKey(ticket.VmId) || _journal.HasUnfinished(ticket.VmId))
        {
            // Only for now: the migration holding the VM here (running, or rolling back after a cut) ends, and a retry within the
            // source's budget finds it free; every check runs again on that retry.
            return TicketDecision.Busy($"VM '{ticket.VmId}' is already migrating on this host");
        }

        if (acceptedInHandshake)
        {
            return TicketDecision.Accept;
        }

        // Read-only: the hypervisor is asked while the registry answers, and a refusal stops that question. A ticket for a VM the
        // registry does not know is refused before anything is written. A registry that knows the VM took its id with its first
        // record; only one from before registry ids (records, no registry.id) takes it here, once and under its lock, the same id
        // every host then reads: a bounded, one-time write.
        using var stopQuerying = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<VmStatus> querying = QueryAsync(stopQuerying.Token);
        // Without pre-migrate hooks nothing may start or replace the VM's hypervisor before it is readied, so the hypervisor's
        // own read-only checks of a destination run now too, and the migration does not ask them again (ADR 0030).
        Task? checking = _preHooks.IsEmpty ? CheckAsync(stopQuerying.Token) : null;
        try
        {
            return await CheckIncomingRecordAsync(ticket, querying, checking, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // An accepted ticket's questions were answered; any other ends here.
            await stopQuerying.CancelAsync().ConfigureAwait(false);
            await ((Task)querying).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (checking is not null)
            {
                await checking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        // Awaited inside, so what they throw, even before their first await, is thrown where the check awaits them.
        async Task<VmStatus> QueryAsync(CancellationToken token) => await _driver.QueryAsync(ticket.VmId, token).ConfigureAwait(false);
        async Task CheckAsync(CancellationToken token) => await _driver.CheckDestinationAsync(ticket.VmId, token).ConfigureAwait(false);
    }

    private async ValueTask<TicketDecision> CheckIncomingRecordAsync(MigrationTicket ticket, Task<VmStatus> querying, Task? checking,
        CancellationToken cancellationToken)
    {
        OwnershipRecord? owner = await _registry.GetAsync(ticket.VmId, cancellationToken).ConfigureAwait(false);
        if (owner is null)
        {
            return TicketDecision.Refuse($"this host's ownership registry does not know VM '{ticket.VmId}': the source registered it in " +
                $"another registry. " +
                "Both hosts must use the same shared registry (secmig: the same --registry directory on both)");
        }

        string registryId = await _registry.GetIdAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(ticket.RegistryId, registryId, StringComparison.Ordinal))
        {
            return TicketDecision.Refuse($"the ticket's epoch comes from registry " +
                $"{(ticket.RegistryId is null ? "(none named)" : UntrustedText.Bound(ticket.RegistryId, 80))}, " +
                $"but this host's ownership registry is {registryId}: the two hosts use different registries, whose epochs mean nothing " +
                    $"to each other. " +
                "Both hosts must use the same shared registry (secmig: the same --registry directory on both)");
        }

        if (owner.Epoch != ticket.OwnershipEpoch || !string.Equals(owner.Owner, ticket.SourceIdentity, StringComparison.Ordinal))
        {
            return TicketDecision.Refuse($"the ticket says '{UntrustedText.Bound(ticket.SourceIdentity, 300)}' holds epoch " +
                $"{ticket.OwnershipEpoch} of VM " +
                $"'{ticket.VmId}', but {Describe(owner)} " +
                "in the registry both hosts share: the VM moved since the source read it, or the source is not its owner");
        }

        VmStatus status;
        try
        {
            status = await querying.ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationException or ArgumentException or InvalidOperationException or IOException)
        {
            return TicketDecision.Refuse($"this host does not serve VM '{ticket.VmId}': {UntrustedText.Bound(e.Message)}");
        }

        if (status.State is VmRunState.Running or VmRunState.Paused)
        {
            return TicketDecision.Refuse($"VM '{ticket.VmId}' is {status.State} on this host already, so there is nothing to receive");
        }

        if (checking is not null)
        {
            try
            {
                await checking.ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationException or ArgumentException or InvalidOperationException or IOException or
                TimeoutException or UnauthorizedAccessException)
            {
                // Only for now, as when the check failed after the first checkpoint: the hypervisor may answer otherwise on a retry
                // (a QEMU restarted with -incoming), so the source's retry budget decides, not a permanent refusal.
                return TicketDecision.Busy($"VM '{ticket.VmId}' cannot receive a migration on this host now: " +
                    UntrustedText.Bound(e.Message));
            }

            _destinationChecked.AddOrUpdate(ticket, ticket);
        }

        return TicketDecision.Accept;
    }

    /// <summary>Checks an incoming ticket and, when it passes, reserves its VM for this migration until the returned lease is
    /// disposed.</summary>
    private async ValueTask<(string? Refusal, IDisposable? Reservation)> ReserveIncomingAsync(MigrationTicket ticket, PeerIdentity peer,
        CancellationToken cancellationToken)
    {
        bool acceptedInHandshake = _acceptedInHandshake.TryGetValue(ticket, out PeerIdentity? acceptedFrom) &&
            ReferenceEquals(acceptedFrom, peer);
        _acceptedInHandshake.Remove(ticket);
        TicketDecision decision = await CheckIncomingAsync(ticket, peer, acceptedInHandshake, cancellationToken).ConfigureAwait(false);
        if (!decision.IsAccepted)
        {
            return (decision.RefusalReason, null);
        }

        if (!_receiving.TryAdd(ticket.VmId, ticket.MigrationId))
        {
            return ($"VM '{ticket.VmId}' is already migrating on this host", null);
        }

        if (!_receivingIds.TryAdd(ticket.MigrationId, ticket.VmId))
        {
            _receiving.TryRemove(ticket.VmId, out _);
            return ($"migration {ticket.MigrationId} is already running on this host", null);
        }

        return (null, new Reservation(this, ticket.VmId, ticket.MigrationId));
    }

    /// <summary>
    /// Records a refused ticket: an audit entry and a log line, each while this peer has its share of them left (a
    /// flood of refusals from a peer of the cluster must not fill the disk or hold the audit log's lock); the refusals
    /// past the share are counted into the next audit entry.
    /// </summary>
    private async ValueTask RecordRefusalAsync(MigrationTicket ticket, PeerIdentity peer, string refusal)
    {
        string vmId = VmIds.IsValid(ticket.VmId) ? ticket.VmId : "(invalid)";
        string who = UntrustedText.Bound(peer.Name, 300);
        if (_refusalLog.ShouldLog(peer.Name))
        {
            Log.TicketRefused(_logger, ticket.MigrationId, vmId, who, refusal);
        }

        if (!_refusalAudit.ShouldLog(peer.Name))
        {
            Interlocked.Increment(ref _unauditedRefusals);
            return;
        }

        long unaudited = Interlocked.Exchange(ref _unauditedRefusals, 0);
        string more = unaudited > 0 ? $" (and {unaudited} earlier refusals past their peers' share, not audited one by one)" : string.Empty;
        await AuditAsync(ticket.MigrationId, vmId, "ticket-refused", $"peer '{who}': {refusal}{more}").ConfigureAwait(false);
    }

    private sealed class Reservation(MigrationCoordinator coordinator, string vmId, Guid migrationId) : IDisposable
    {
        public void Dispose()
        {
            coordinator._receivingIds.TryRemove(migrationId, out _);
            coordinator._receiving.TryRemove(vmId, out _);
        }
    }

    private sealed class IncomingTicketValidator(MigrationCoordinator coordinator, ITicketValidator? next) : ITicketValidator
    {
        public async ValueTask<TicketDecision> ValidateAsync(MigrationTicket ticket, PeerIdentity peer, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(ticket);
            ArgumentNullException.ThrowIfNull(peer);
            TicketDecision decision = await coordinator.CheckIncomingAsync(ticket, peer, acceptedInHandshake: false, cancellationToken)
                .ConfigureAwait(false);
            if (!decision.IsAccepted)
            {
                await coordinator.RecordRefusalAsync(ticket, peer, decision.RefusalReason!).ConfigureAwait(false);
                return decision;
            }

            coordinator._acceptedInHandshake.AddOrUpdate(ticket, peer);

            return next is null ? TicketDecision.Accept : await next.ValidateAsync(ticket, peer, cancellationToken).ConfigureAwait(false);
        }
    }
}
