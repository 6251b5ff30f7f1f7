using CsCheck;
using SecureMigration.Admission;

namespace SecureMigration.Tests.Admission;

public sealed class DecorrelatedJitterBackoffTests
{
    [Fact]
    public void Next_AnyPrevious_StaysBetweenBaseAndCap()
    {
        var options = new BackoffOptions();
        Gen.Select(Gen.Int, Gen.Long[0, TimeSpan.FromHours(1).Ticks]).Sample((seed, previous) =>
        {
            var backoff = new DecorrelatedJitterBackoff(options, new Random(seed));
            TimeSpan next = backoff.Next(TimeSpan.FromTicks(previous));

            Assert.InRange(next, options.BaseDelay, options.MaxDelay);
            Assert.True(next.Ticks <= Math.Max(previous, options.BaseDelay.Ticks) * 3);
        });
    }

    [Fact]
    public void Next_SameSeed_GivesTheSameSequence()
    {
        var options = new BackoffOptions();
        var first = new DecorrelatedJitterBackoff(options, new Random(42));
        var second = new DecorrelatedJitterBackoff(options, new Random(42));
        TimeSpan a = TimeSpan.Zero;
        TimeSpan b = TimeSpan.Zero;
        for (int i = 0; i < 20; i++)
        {
            a = first.Next(a);
            b = second.Next(b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Validate_CapBelowBase_IsRefused()
    {
        var options = new BackoffOptions { BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(1) };

        ArgumentException error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("MaxDelay is 00:00:01", error.Message, StringComparison.Ordinal);
    }
}
