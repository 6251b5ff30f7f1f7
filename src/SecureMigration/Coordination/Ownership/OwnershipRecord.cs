namespace SecureMigration.Coordination.Ownership;

/// <summary>Who may run a VM: the host that holds its current ownership epoch.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="Owner">The host that holds the epoch; only it may run the VM.</param>
/// <param name="Epoch">The epoch, from 1; every change of hands (or reclaim) raises it by one.</param>
/// <param name="MigrationId">The migration that last moved the epoch, if any.</param>
/// <param name="ChangedAt">When the epoch last moved.</param>
public sealed record OwnershipRecord(string VmId, string Owner, long Epoch, Guid? MigrationId, DateTimeOffset ChangedAt);
