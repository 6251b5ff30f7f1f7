using SecureMigration.Channel.Tickets;

namespace SecureMigration.Tests.Channel;

public sealed class TicketReplayCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TryAdd_SameNonceTwice_RefusesTheSecond()
    {
        var cache = new TicketReplayCache(10);

        Assert.True(cache.TryAdd(42, Now.AddMinutes(1), Now));
        Assert.False(cache.TryAdd(42, Now.AddMinutes(1), Now));
    }

    [Fact]
    public void TryAdd_AfterExpiry_ForgetsTheNonce()
    {
        var cache = new TicketReplayCache(10);
        cache.TryAdd(42, Now.AddMinutes(1), Now);

        Assert.True(cache.TryAdd(43, Now.AddMinutes(3), Now.AddMinutes(2)));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void TryAdd_FloodOfDistinctNonces_StaysWithinCapacity()
    {
        var cache = new TicketReplayCache(100);
        for (int i = 0; i < 10_000; i++)
        {
            cache.TryAdd((UInt128)i, Now.AddMinutes(5).AddTicks(i), Now);
        }

        Assert.Equal(100, cache.Count);

        // The newest nonces are still remembered.
        Assert.False(cache.TryAdd(9_999, Now.AddMinutes(5), Now));
    }
}
