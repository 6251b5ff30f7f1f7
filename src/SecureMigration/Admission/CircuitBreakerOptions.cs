namespace SecureMigration.Admission;

/// <summary>Circuit breakers per VM and per host pair.</summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Gets or sets how many consecutive failures open the breaker.</summary>
    /// <value>The default is 3.</value>
    public int FailureThreshold { get; set; } = 3;

    /// <summary>Gets or sets how long an open breaker refuses before it lets one probe through (half-open).</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromMinutes(5);

    internal void Validate()
    {
        if (FailureThreshold < 1)
        {
            throw new ArgumentException($"CircuitBreakerOptions.FailureThreshold is {FailureThreshold}; it must be at least 1.",
                nameof(FailureThreshold));
        }

        if (BreakDuration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"CircuitBreakerOptions.BreakDuration is {BreakDuration}; it must be above zero.",
                nameof(BreakDuration));
        }
    }

    /// <summary>A copy later changes to these options do not reach.</summary>
    internal CircuitBreakerOptions Snapshot() => new() { FailureThreshold = FailureThreshold, BreakDuration = BreakDuration };
}
