namespace SecureMigration.Admission;

/// <summary>Why a migration request was denied (machine-readable; also the metric tag).</summary>
public enum AdmissionDenialReason
{
    /// <summary>The request was admitted.</summary>
    None,

    /// <summary>The VM is already migrating.</summary>
    AlreadyMigrating,

    /// <summary>A retry budget (VM, host pair or global) is exhausted.</summary>
    RetryBudgetExhausted,

    /// <summary>The VM's backoff since its last failure has not elapsed.</summary>
    Backoff,

    /// <summary>The circuit breaker of the VM or of the host pair is open after repeated failures.</summary>
    CircuitOpen,

    /// <summary>The cluster-wide cap on concurrent migrations is reached.</summary>
    ClusterCapReached,

    /// <summary>The source host's cap on outbound migrations is reached.</summary>
    OutboundCapReached,

    /// <summary>The destination host's cap on inbound migrations is reached.</summary>
    InboundCapReached,

    /// <summary>The VM moved too recently (minimum dwell time).</summary>
    DwellTime,

    /// <summary>The request would move the VM back where it just came from (A → B → A).</summary>
    PingPong,

    /// <summary>Too many requests of this trigger in the last minute.</summary>
    RateLimited,

    /// <summary>The admission state is full of tracked VMs; no idle entry could be dropped.</summary>
    TooManyTrackedVms,

    /// <summary>The saved state was damaged; retries and automatic migrations wait until the budgets would have refilled.</summary>
    RecoveringFromDamagedState,
}
