using CsCheck;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;

namespace SecureMigration.Tests.Admission;

public sealed class RetryBudgetTests
{
    private static readonly RetryBudgetOptions Defaults = new();

    /// <summary>
    /// The bound: each first attempt funds at most <c>PercentCanRetry</c> retries, and the floor refills once per
    /// window; buckets expire up to one tenth of the window early, so a run of <c>d</c> spans at most
    /// <c>ceil(d / (0.9 × TTL))</c> windows.
    /// </summary>
    private static double Bound(RetryBudgetOptions options, long firstAttempts, TimeSpan duration) =>
        (options.PercentCanRetry * firstAttempts) +
        (options.MinRetriesPerSecond * options.TimeToLive.TotalSeconds * Math.Ceiling(duration / (options.TimeToLive * 0.9))) + 1;

    /// <summary>What the controller does with each budget: check, then take.</summary>
    private static bool TryWithdraw(RetryBudget budget, DateTimeOffset now, out TimeSpan retryAfter)
    {
        if (!budget.CanWithdraw(now, out retryAfter))
        {
            return false;
        }

        budget.Withdraw(now);
        return true;
    }

    [Fact]
    public void TryWithdraw_UnderTenMinutesOfThrash_StaysWithinTheBound()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero));
        var budget = new RetryBudget(Defaults);
        long firstAttempts = 0;
        long admitted = 0;
        long denied = 0;
        TimeSpan longestWait = TimeSpan.Zero;

        // A new migration every 10 s; the attacker cuts every attempt, and the orchestrator retries every second.
        for (int second = 0; second < 600; second++)
        {
            if (second % 10 == 0)
            {
                budget.Deposit(time.GetUtcNow());
                firstAttempts++;
            }

            if (TryWithdraw(budget, time.GetUtcNow(), out TimeSpan retryAfter))
            {
                admitted++;
            }
            else
            {
                denied++;
                longestWait = retryAfter > longestWait ? retryAfter : longestWait;
            }

            time.Advance(TimeSpan.FromSeconds(1));
        }

        double bound = Bound(Defaults, firstAttempts, TimeSpan.FromMinutes(10));
        Assert.True(admitted <= bound, $"{admitted} retries admitted, bound {bound}");
        Assert.True(admitted >= Defaults.PercentCanRetry * firstAttempts, $"only {admitted} retries admitted of a budget of " +
            $"{Defaults.PercentCanRetry * firstAttempts}");
        Assert.True(denied > 500);
        Assert.InRange(longestWait, TimeSpan.FromTicks(1), Defaults.TimeToLive);
    }

    [Fact]
    public void TryWithdraw_AnySequence_NeverExceedsTheBound()
    {
        var step = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 20_000]);
        Gen.Select(step.Array[1, 400], Gen.Double[0, 1], Gen.Double[0, 0.5], Gen.Int[1, 120]).Sample((steps, percent, floor, ttlSeconds) =>
        {
            var options = new RetryBudgetOptions { PercentCanRetry = percent, MinRetriesPerSecond = floor,
                TimeToLive = TimeSpan.FromSeconds(ttlSeconds) };
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            DateTimeOffset start = time.GetUtcNow();
            var budget = new RetryBudget(options);
            long deposits = 0;
            long admitted = 0;
            foreach ((int kind, int milliseconds) in steps)
            {
                switch (kind)
                {
                    case 0:
                        budget.Deposit(time.GetUtcNow());
                        deposits++;
                        break;
                    case 1:
                        admitted += TryWithdraw(budget, time.GetUtcNow(), out _) ? 1 : 0;
                        break;
                    default:
                        time.Advance(TimeSpan.FromMilliseconds(milliseconds));
                        break;
                }
            }

            double bound = Bound(options, deposits, time.GetUtcNow() - start + TimeSpan.FromTicks(1));
            Assert.True(admitted <= bound, $"{admitted} admitted > bound {bound}");
        });
    }

    [Fact]
    public void Balance_AfterTheWindow_ForgetsDepositsAndWithdrawals()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Defaults);
        for (int i = 0; i < 100; i++)
        {
            budget.Deposit(time.GetUtcNow());
        }

        Assert.Equal(23, budget.Balance(time.GetUtcNow()), precision: 6);
        time.Advance(Defaults.TimeToLive);

        Assert.Equal(3, budget.Balance(time.GetUtcNow()), precision: 6);
    }

    [Fact]
    public void Validate_PercentOutOfRange_NamesTheOptionAndTheValue()
    {
        var options = new RetryBudgetOptions { PercentCanRetry = -1 };

        ArgumentException error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("PercentCanRetry is -1", error.Message, StringComparison.Ordinal);
    }
}
