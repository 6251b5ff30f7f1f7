namespace SecureMigration.Coordination.Phases;

/// <summary>Which end of a migration a host plays.</summary>
public enum MigrationRole
{
    /// <summary>The host the VM leaves.</summary>
    Source,

    /// <summary>The host the VM moves to.</summary>
    Destination,
}
