using SecureMigration.Channel.Limits;

namespace SecureMigration.Tests.Channel.Limits;

public sealed class WaitingChannelsTests
{
    [Fact]
    public void TryEnter_PeerHoldsItsMost_IsRefusedUntilOneLeaves()
    {
        var waiting = new WaitingChannels(perPeer: 2, total: 10);
        IDisposable first = waiting.TryEnter("source.test")!;
        Assert.NotNull(waiting.TryEnter("SOURCE.test"));

        Assert.Null(waiting.TryEnter("source.test"));
        Assert.NotNull(waiting.TryEnter("other.test"));
        first.Dispose();
        Assert.NotNull(waiting.TryEnter("source.test"));
    }

    [Fact]
    public void TryEnter_EveryPlaceHeld_IsRefusedForAnyPeer()
    {
        var waiting = new WaitingChannels(perPeer: 2, total: 3);
        Assert.NotNull(waiting.TryEnter("a"));
        Assert.NotNull(waiting.TryEnter("b"));
        Assert.NotNull(waiting.TryEnter("c"));

        Assert.Null(waiting.TryEnter("d"));
        Assert.Equal(3, waiting.Held);
    }

    [Fact]
    public void Dispose_Twice_GivesThePlaceBackOnce()
    {
        var waiting = new WaitingChannels(perPeer: 1, total: 2);
        IDisposable place = waiting.TryEnter("a")!;
        IDisposable other = waiting.TryEnter("b")!;

        place.Dispose();
        place.Dispose();

        Assert.Equal(1, waiting.Held);
        Assert.NotNull(waiting.TryEnter("a"));
        Assert.Null(waiting.TryEnter("a"));
        other.Dispose();
    }
}
