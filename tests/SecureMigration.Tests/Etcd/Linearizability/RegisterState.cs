using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Etcd.Linearizability;

/// <summary>What the ownership register holds for one VM, as the history checker models it (the change time left out).</summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="Owner">The owner.</param>
/// <param name="MigrationId">The migration that last moved it.</param>
public sealed record RegisterState(long Epoch, string Owner, Guid? MigrationId)
{
    public static RegisterState? Of(OwnershipRecord? record) => record is null ? null : new(record.Epoch, record.Owner, record.MigrationId);
}
