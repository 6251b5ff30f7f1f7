namespace SecureMigration.Admission;

/// <summary>Why a migration was requested; it decides which policies may be overridden.</summary>
public enum MigrationTrigger
{
    /// <summary>An operator asked for it. May override the dwell time, never the retry budget.</summary>
    Manual,

    /// <summary>An orchestrator's balancer asked for it. Subject to every policy and a lower rate limit.</summary>
    Automatic,

    /// <summary>The source host is being drained. May override the dwell time, never the retry budget.</summary>
    Evacuation,

    /// <summary>A new attempt of a migration that failed. Withdraws from the retry budgets and waits out the backoff.</summary>
    Retry,
}
