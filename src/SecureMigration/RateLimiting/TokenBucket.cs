namespace SecureMigration.RateLimiting;

/// <summary>
/// A token bucket refilled continuously on an injected clock, holding up to <paramref name="capacity"/> tokens;
/// the caller holds the controller's lock.
/// </summary>
internal sealed class TokenBucket(double perMinute, TimeProvider time, double capacity)
{
    private readonly double _capacity = capacity;
    private double _tokens = capacity;
    private long _refilledAt = time.GetTimestamp();

    /// <summary>A bucket that holds a minute's worth of tokens (at least one).</summary>
    public TokenBucket(double perMinute, TimeProvider time)
        : this(perMinute, time, Math.Max(1, perMinute))
    {
    }

    /// <summary>Gets whether the bucket has refilled completely: forgetting it would lose nothing.</summary>
    public bool IsFull
    {
        get
        {
            Refill();
            return _tokens >= _capacity;
        }
    }

    public bool TryTake(out TimeSpan retryAfter)
    {
        Refill();
        if (_tokens >= 1)
        {
            _tokens -= 1;
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = perMinute > 0 ? TimeSpan.FromMinutes((1 - _tokens) / perMinute) : TimeSpan.MaxValue;
        return false;
    }

    private void Refill()
    {
        long now = time.GetTimestamp();
        double minutes = time.GetElapsedTime(_refilledAt, now).TotalMinutes;
        _tokens = Math.Min(_capacity, _tokens + (minutes * perMinute));
        _refilledAt = now;
    }
}
