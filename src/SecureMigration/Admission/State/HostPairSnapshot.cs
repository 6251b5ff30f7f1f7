namespace SecureMigration.Admission.State;

/// <summary>One host pair's admission state as saved.</summary>
internal sealed record HostPairSnapshot(string Source, string Destination, RetryBudgetSnapshot Budget, CircuitBreakerSnapshot Breaker);
