using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination;

/// <summary>What recovery did with one unfinished migration.</summary>
/// <param name="MigrationId">The migration.</param>
/// <param name="VmId">The VM.</param>
/// <param name="Role">This host's role in it.</param>
/// <param name="From">The phase the journal left it in.</param>
/// <param name="To">The final phase recovery brought it to.</param>
/// <param name="Decision">Why: what the journal and the ownership registry said.</param>
public sealed record RecoveredMigration(Guid MigrationId, string VmId, MigrationRole Role, MigrationPhase From, MigrationPhase To,
    string Decision);
