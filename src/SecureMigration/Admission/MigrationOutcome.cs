namespace SecureMigration.Admission;

/// <summary>How an admitted migration ended; it feeds the breakers, the backoff, the dwell time and ping-pong detection.</summary>
public enum MigrationOutcome
{
    /// <summary>The VM runs on the destination.</summary>
    Succeeded,

    /// <summary>The migration failed (cut, refused, timed out); the VM runs on the source.</summary>
    Failed,

    /// <summary>The migration was cancelled on purpose; it counts neither as success nor as failure.</summary>
    Cancelled,
}
