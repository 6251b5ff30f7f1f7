namespace SecureMigration.Admission;

/// <summary>
/// "Decorrelated jitter" (AWS Architecture Blog, 2015): <c>next = min(max, random(base, previous × 3))</c>.
/// Spreads retries of many VMs apart while growing the wait of each. The random source is injected so tests and
/// simulations are reproducible.
/// </summary>
internal sealed class DecorrelatedJitterBackoff(BackoffOptions options, Random random)
{
    private readonly Lock _gate = new();

    /// <summary>The wait before the next retry, given the previous wait (zero before the first retry).</summary>
    public TimeSpan Next(TimeSpan previous)
    {
        long low = options.BaseDelay.Ticks;
        long high = Math.Max(low + 1, Math.Min(options.MaxDelay.Ticks, Math.Max(previous.Ticks, low) * 3));
        long next;
        lock (_gate)
        {
            next = random.NextInt64(low, high + 1);
        }

        return TimeSpan.FromTicks(Math.Min(next, options.MaxDelay.Ticks));
    }
}
