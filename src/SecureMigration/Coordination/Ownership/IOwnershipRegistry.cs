namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// The single authority on which host may run each VM. A migration commits by moving the epoch to the destination
/// with a compare-and-swap; a source rolls back by reclaiming it with one. Whoever wins decides, so the two hosts can
/// never both believe they own the VM, whatever the network drops. The default is <see cref="FileOwnershipRegistry"/>;
/// a cluster of orchestrators would put this in a consensus store (etcd, ZooKeeper).
/// </summary>
public interface IOwnershipRegistry
{
    /// <summary>
    /// Gets the registry's identity: a random id the registry takes with its first record and keeps. Tickets carry it,
    /// so hosts that use different registries (whose epochs may happen to agree) never admit each other's migrations.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The id, at most <see cref="Channel.Tickets.MigrationTicket.MaxFieldLength"/> UTF-8 bytes.</returns>
    ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the ownership of <paramref name="vmId"/>.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The record, or <see langword="null"/> for a VM the registry does not know.</returns>
    ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Registers <paramref name="owner"/> as the first owner of <paramref name="vmId"/> at epoch 1; a known VM is left as it
    /// is.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="owner">The host it runs on.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>The record as it stands afterwards.</returns>
    ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the epoch of <paramref name="vmId"/> from (<paramref name="expectedEpoch"/>, <paramref name="expectedOwner"/>)
    /// to (<paramref name="expectedEpoch"/> + 1, <paramref name="newOwner"/>), atomically and durably, only if the record is
    /// still what the caller expects.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="expectedEpoch">The epoch the caller saw.</param>
    /// <param name="expectedOwner">The owner the caller saw.</param>
    /// <param name="newOwner">The next owner (the same host for a reclaim).</param>
    /// <param name="migrationId">The migration that moves it.</param>
    /// <param name="cancellationToken">Cancels the wait; a swap that started completes.</param>
    /// <returns>Whether it moved, and the record as it stands afterwards.</returns>
    ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the epoch of <paramref name="expected"/>'s VM as <see cref="TryMoveAsync(string, long, string, string, Guid,
    /// CancellationToken)"/> does, and where the registry versions its records and <paramref name="expected"/> carries a
    /// <see cref="OwnershipRecord.Revision"/>, only if the record is still at that very revision: a record rewritten since
    /// (even to the same content) does not move, and is returned as it stands. A registry that keeps no versions compares
    /// the epoch and owner only.
    /// </summary>
    /// <param name="expected">The record the caller read (its VM, epoch, owner and revision count).</param>
    /// <param name="newOwner">The next owner (the same host for a reclaim).</param>
    /// <param name="migrationId">The migration that moves it.</param>
    /// <param name="cancellationToken">Cancels the wait; a swap that started completes.</param>
    /// <returns>Whether it moved, and the record as it stands afterwards.</returns>
    ValueTask<OwnershipMove> TryMoveAsync(OwnershipRecord expected, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        return TryMoveAsync(expected.VmId, expected.Epoch, expected.Owner, newOwner, migrationId, cancellationToken);
    }
}
