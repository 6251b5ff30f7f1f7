using System.Text.Json.Serialization;

namespace SecureMigration.Coordination.Ownership;

/// <summary>Who may run a VM: the host that holds its current ownership epoch.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="Owner">The host that holds the epoch; only it may run the VM.</param>
/// <param name="Epoch">The epoch, from 1; every change of hands (or reclaim) raises it by one.</param>
/// <param name="MigrationId">The migration that last moved the epoch, if any.</param>
/// <param name="ChangedAt">When the epoch last moved.</param>
public sealed record OwnershipRecord(string VmId, string Owner, long Epoch, Guid? MigrationId, DateTimeOffset ChangedAt)
{
    /// <summary>
    /// Gets the version the registry stored this record at, where the registry versions its records (etcd: the key's
    /// <c>mod_revision</c>, which only grows), or 0. A record put back as it was (a replay by whoever can write the store)
    /// reads the same but at a new revision, so a host that remembers the revision tells the two apart. The revision of a
    /// commit is the destination's fencing token. It is the store's, never part of the signed record.
    /// </summary>
    [JsonIgnore]
    public long Revision { get; init; }
}
