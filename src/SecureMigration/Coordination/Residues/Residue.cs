namespace SecureMigration.Coordination.Residues;

/// <summary>A leftover copy of VM data to dispose of.</summary>
/// <param name="MigrationId">The migration that left it.</param>
/// <param name="VmId">The VM whose data it holds.</param>
/// <param name="Kind">What it is.</param>
/// <param name="Path">The file or directory.</param>
public sealed record Residue(Guid MigrationId, string VmId, ResidueKind Kind, string Path);
