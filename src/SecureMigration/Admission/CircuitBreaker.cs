using SecureMigration.Admission.State;

namespace SecureMigration.Admission;

/// <summary>
/// Closed → (FailureThreshold consecutive failures) → open for BreakDuration → half-open: one probe is let
/// through; its success closes the breaker, its failure opens it again. The caller holds the controller's lock.
/// </summary>
internal sealed class CircuitBreaker(CircuitBreakerOptions options)
{
    private int _consecutiveFailures;
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;
    private bool _probing;

    public bool IsOpen(DateTimeOffset now, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_consecutiveFailures < options.FailureThreshold)
        {
            return false;
        }

        if (now < _openUntil)
        {
            retryAfter = _openUntil - now;
            return true;
        }

        // Half-open: one probe at a time.
        if (_probing)
        {
            retryAfter = options.BreakDuration;
            return true;
        }

        return false;
    }

    /// <summary>What an operator would clear: the open breaker or its count of failures; <see langword="null"/> when closed and
    /// clean.</summary>
    public string? Describe(DateTimeOffset now) =>
        _consecutiveFailures == 0 ? null
        : now < _openUntil ? $"breaker open for {Text.Durations.Describe(_openUntil - now)} after {_consecutiveFailures} failures"
        : $"breaker after {_consecutiveFailures} failures";

    /// <summary>Closes the breaker and forgets its failures (an operator's reset).</summary>
    public void Reset()
    {
        _consecutiveFailures = 0;
        _openUntil = DateTimeOffset.MinValue;
        _probing = false;
    }

    public CircuitBreakerSnapshot Export() => new(_consecutiveFailures, _openUntil);

    /// <summary>Restores a breaker; no probe survives a restart, so a half-open breaker lets a new one through.</summary>
    public void Import(CircuitBreakerSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.ConsecutiveFailures < 0)
        {
            throw new FormatException("A circuit breaker snapshot cannot hold a negative failure count.");
        }

        _consecutiveFailures = snapshot.ConsecutiveFailures;
        _openUntil = snapshot.OpenUntil;
        _probing = false;
    }

    public void OnAdmitted()
    {
        if (_consecutiveFailures >= options.FailureThreshold)
        {
            _probing = true;
        }
    }

    public void OnOutcome(MigrationOutcome outcome, DateTimeOffset now)
    {
        _probing = false;
        switch (outcome)
        {
            case MigrationOutcome.Succeeded:
                _consecutiveFailures = 0;
                break;
            case MigrationOutcome.Failed:
                _consecutiveFailures++;
                if (_consecutiveFailures >= options.FailureThreshold)
                {
                    _openUntil = now + options.BreakDuration;
                }

                break;
        }
    }
}
