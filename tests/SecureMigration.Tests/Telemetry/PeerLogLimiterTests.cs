using Microsoft.Extensions.Time.Testing;
using SecureMigration.Telemetry;

namespace SecureMigration.Tests.Telemetry;

public sealed class PeerLogLimiterTests
{
    [Fact]
    public void ShouldLog_OnePeerPastItsRate_IsSilencedUntilTheAllowanceRefills()
    {
        var time = new FakeTimeProvider();
        var limiter = new PeerLogLimiter(linesPerMinute: 6, maxPeers: 10, time);

        Assert.Equal(6, Enumerable.Range(0, 100).Count(_ => limiter.ShouldLog("insider")));
        Assert.True(limiter.ShouldLog("someone else"));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(limiter.ShouldLog("insider"));
        Assert.False(limiter.ShouldLog("insider"));
    }

    [Fact]
    public void ShouldLog_MorePeersThanTracked_ShareOneAllowance()
    {
        var limiter = new PeerLogLimiter(linesPerMinute: 2, maxPeers: 3, new FakeTimeProvider());

        int lines = Enumerable.Range(0, 1000).Count(i => limiter.ShouldLog("made-up-" + i));

        // The first three names are tracked (one line each, they spoke once); the other 997 share two lines.
        Assert.Equal(3 + 2, lines);
    }
}
