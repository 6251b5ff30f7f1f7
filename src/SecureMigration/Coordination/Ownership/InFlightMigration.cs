namespace SecureMigration.Coordination.Ownership;

/// <summary>A migration in flight, as the source that runs it announces it in a shared registry while it holds its lease.</summary>
/// <param name="MigrationId">The migration.</param>
/// <param name="VmId">The VM that moves.</param>
/// <param name="Source">The host it leaves, which runs the migration.</param>
/// <param name="Destination">The host it moves to.</param>
/// <param name="StartedAt">When the source started it, on the source's clock.</param>
public sealed record InFlightMigration(Guid MigrationId, string VmId, string Source, string Destination, DateTimeOffset StartedAt);
