namespace SecureMigration.Admission;

/// <summary>A request to migrate one VM from one host to another.</summary>
/// <param name="VmId">The VM.</param>
/// <param name="SourceHost">The host the VM runs on.</param>
/// <param name="DestinationHost">The host it should move to.</param>
/// <param name="Trigger">Why the migration is requested.</param>
public sealed record MigrationRequest(string VmId, string SourceHost, string DestinationHost, MigrationTrigger Trigger);
