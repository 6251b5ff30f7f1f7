using SecureMigration.Admission.State;

namespace SecureMigration.Admission;

/// <summary>
/// One retry budget (per VM, per host pair, or global). Deposits and withdrawals are counted in a ring of
/// buckets covering <see cref="RetryBudgetOptions.TimeToLive"/>, so memory is fixed and expiry is O(buckets).
/// Not thread-safe: the admission controller's lock serializes it. Allocation-free after construction.
/// </summary>
internal sealed class RetryBudget
{
    private const int Buckets = 10;

    private readonly RetryBudgetOptions _options;
    private readonly long _bucketTicks;
    // One array, so a budget is two objects in memory rather than four: deposits, withdrawals, bucket starts.
    private readonly long[] _counters = new long[3 * Buckets];
    private long _currentSlot = long.MinValue;

    public RetryBudget(RetryBudgetOptions options)
    {
        _options = options;
        _bucketTicks = Math.Max(1, options.TimeToLive.Ticks / Buckets);
        BucketStarts.Fill(long.MinValue);
    }

    private Span<long> DepositCounts => _counters.AsSpan(0, Buckets);

    private Span<long> WithdrawalCounts => _counters.AsSpan(Buckets, Buckets);

    private Span<long> BucketStarts => _counters.AsSpan(2 * Buckets, Buckets);

    /// <summary>Records a first attempt.</summary>
    public void Deposit(DateTimeOffset now)
    {
        DepositCounts[Current(now)]++;
    }

    /// <summary>Whether a retry would be admitted now, without taking it; otherwise when to ask again.</summary>
    public bool CanWithdraw(DateTimeOffset now, out TimeSpan retryAfter)
    {
        Current(now);
        if (BalanceNow() >= 1)
        {
            retryAfter = TimeSpan.Zero;
            return true;
        }

        retryAfter = UntilOldestWithdrawalExpires(now);
        return false;
    }

    /// <summary>Takes a retry that <see cref="CanWithdraw"/> allowed.</summary>
    public void Withdraw(DateTimeOffset now)
    {
        WithdrawalCounts[Current(now)]++;
    }

    /// <summary>Forgets every deposit and withdrawal (an operator's reset).</summary>
    public void Reset()
    {
        _counters.AsSpan(0, 2 * Buckets).Clear();
        BucketStarts.Fill(long.MinValue);
        _currentSlot = long.MinValue;
    }

    /// <summary>The budget's counters, for the state store.</summary>
    public RetryBudgetSnapshot Export() => new(_currentSlot, DepositCounts.ToArray(), WithdrawalCounts.ToArray(), BucketStarts.ToArray());

    /// <summary>Restores counters exported by <see cref="Export"/>; a snapshot of another shape is refused.</summary>
    public void Import(RetryBudgetSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Deposits is null || snapshot.Withdrawals is null || snapshot.BucketStarts is null ||
            snapshot.Deposits.Length != Buckets || snapshot.Withdrawals.Length != Buckets || snapshot.BucketStarts.Length != Buckets ||
            snapshot.Deposits.Any(d => d < 0) || snapshot.Withdrawals.Any(w => w < 0))
        {
            throw new FormatException($"A retry budget snapshot must hold {Buckets} non-negative counters of each kind.");
        }

        _currentSlot = snapshot.CurrentSlot;
        snapshot.Deposits.CopyTo(DepositCounts);
        snapshot.Withdrawals.CopyTo(WithdrawalCounts);
        snapshot.BucketStarts.CopyTo(BucketStarts);
    }

    /// <summary>The retries the budget would admit now.</summary>
    public double Balance(DateTimeOffset now)
    {
        Current(now);
        return BalanceNow();
    }

    private double BalanceNow()
    {
        long deposits = 0;
        long withdrawals = 0;
        for (int i = 0; i < Buckets; i++)
        {
            deposits += DepositCounts[i];
            withdrawals += WithdrawalCounts[i];
        }

        return _options.MaxRetriesPerWindow(deposits) - withdrawals;
    }

    /// <summary>Expires buckets older than the window and returns the index of the bucket for now.</summary>
    private int Current(DateTimeOffset at)
    {
        long now = at.UtcTicks;
        long slot = now / _bucketTicks;
        int index = (int)(slot % Buckets);
        if (slot == _currentSlot)
        {
            return index;
        }

        _currentSlot = slot;
        long start = slot * _bucketTicks;
        for (int i = 0; i < Buckets; i++)
        {
            if (BucketStarts[i] != long.MinValue && now - BucketStarts[i] >= _options.TimeToLive.Ticks)
            {
                Reset(i);
            }
        }

        if (BucketStarts[index] != start)
        {
            Reset(index);
            BucketStarts[index] = start;
        }

        return index;
    }

    private void Reset(int index)
    {
        DepositCounts[index] = 0;
        WithdrawalCounts[index] = 0;
        BucketStarts[index] = long.MinValue;
    }

    private TimeSpan UntilOldestWithdrawalExpires(DateTimeOffset at)
    {
        long now = at.UtcTicks;
        long oldest = long.MaxValue;
        for (int i = 0; i < Buckets; i++)
        {
            if (WithdrawalCounts[i] > 0 && BucketStarts[i] < oldest)
            {
                oldest = BucketStarts[i];
            }
        }

        // With no withdrawal in the window, only new first attempts can fund a retry: suggest the next window.
        return oldest == long.MaxValue
            ? _options.TimeToLive
            : TimeSpan.FromTicks(Math.Max(0, oldest + _options.TimeToLive.Ticks - now));
    }
}
