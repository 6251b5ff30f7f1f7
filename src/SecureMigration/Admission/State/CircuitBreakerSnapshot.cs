namespace SecureMigration.Admission.State;

/// <summary>A circuit breaker as saved.</summary>
internal sealed record CircuitBreakerSnapshot(int ConsecutiveFailures, DateTimeOffset OpenUntil);
