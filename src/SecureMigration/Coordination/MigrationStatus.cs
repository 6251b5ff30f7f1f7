namespace SecureMigration.Coordination;

/// <summary>How a migration ended.</summary>
public enum MigrationStatus
{
    /// <summary>It committed: the VM runs on the destination, the source's copy is gone.</summary>
    Completed,

    /// <summary>It rolled back: the VM runs on the source, the destination's partial copy is gone.</summary>
    RolledBack,

    /// <summary>It never started (not the owner, not running, denied by admission, refused by the destination before anything
    /// moved).</summary>
    Refused,
}
