namespace SecureMigration.Admission;

/// <summary>What admission remembers of one VM.</summary>
internal sealed class VmAdmissionState(string vmId, AdmissionOptions options)
{
    public string VmId { get; } = vmId;

    public RetryBudget Budget { get; } = new(options.VmRetryBudget);

    public CircuitBreaker Breaker { get; } = new(options.CircuitBreaker);

    public bool InFlight { get; set; }

    public DateTimeOffset LastTouched { get; set; }

    /// <summary>When the last successful migration ended, and from where to where it went.</summary>
    public DateTimeOffset LastMovedAt { get; set; } = DateTimeOffset.MinValue;

    public string? LastMovedFrom { get; set; }

    public TimeSpan LastBackoff { get; set; }

    public DateTimeOffset RetryNotBefore { get; set; } = DateTimeOffset.MinValue;
}
