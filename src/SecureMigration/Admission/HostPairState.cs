namespace SecureMigration.Admission;

/// <summary>What admission remembers of one (source, destination) host pair.</summary>
internal sealed class HostPairState(AdmissionOptions options, TimeProvider time)
{
    public RetryBudget Budget { get; } = new(options.HostPairRetryBudget, time);

    public CircuitBreaker Breaker { get; } = new(options.CircuitBreaker);
}
