namespace SecureMigration.Admission;

/// <summary>A token bucket refilled continuously on an injected clock; the caller holds the controller's lock.</summary>
internal sealed class TokenBucket(double perMinute, TimeProvider time)
{
    private readonly double _capacity = Math.Max(1, perMinute);
    private double _tokens = Math.Max(1, perMinute);
    private long _refilledAt = time.GetTimestamp();

    public bool TryTake(out TimeSpan retryAfter)
    {
        long now = time.GetTimestamp();
        double minutes = time.GetElapsedTime(_refilledAt, now).TotalMinutes;
        _tokens = Math.Min(_capacity, _tokens + (minutes * perMinute));
        _refilledAt = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = perMinute > 0 ? TimeSpan.FromMinutes((1 - _tokens) / perMinute) : TimeSpan.MaxValue;
        return false;
    }
}
