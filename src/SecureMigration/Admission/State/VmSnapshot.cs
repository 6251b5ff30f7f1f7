namespace SecureMigration.Admission.State;

/// <summary>One VM's admission state as saved.</summary>
internal sealed record VmSnapshot(string VmId, DateTimeOffset LastTouched, DateTimeOffset LastMovedAt, string? LastMovedFrom,
    TimeSpan LastBackoff, DateTimeOffset RetryNotBefore, RetryBudgetSnapshot Budget, CircuitBreakerSnapshot Breaker);
