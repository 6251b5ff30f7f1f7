using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination;

/// <summary>Where a migration stands, for progress displays.</summary>
/// <param name="MigrationId">The migration.</param>
/// <param name="VmId">The VM.</param>
/// <param name="Phase">The phase it is in.</param>
/// <param name="Bytes">The bytes of the migration stream moved so far.</param>
public readonly record struct MigrationProgress(Guid MigrationId, string VmId, MigrationPhase Phase, long Bytes);
