namespace SecureMigration.Admission;

/// <summary>What admission remembers of one (source, destination) host pair.</summary>
internal sealed class HostPairState(AdmissionOptions options)
{
    public RetryBudget Budget { get; } = new(options.HostPairRetryBudget);

    public CircuitBreaker Breaker { get; } = new(options.CircuitBreaker);
}
