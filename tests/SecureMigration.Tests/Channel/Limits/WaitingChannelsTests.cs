using SecureMigration.Channel.Limits;

namespace SecureMigration.Tests.Channel.Limits;

public sealed class WaitingChannelsTests
{
    [Fact]
    public void TryEnter_PeerHoldsItsMost_TakesBackItsOldestWaitingPlace()
    {
        var waiting = new WaitingChannels(perPeer: 2, total: 10);
        WaitingChannels.Place oldest = waiting.TryEnter("source.test")!;
        WaitingChannels.Place second = waiting.TryEnter("SOURCE.test")!;
        WaitingChannels.Place other = waiting.TryEnter("other.test")!;

        Assert.NotNull(waiting.TryEnter("source.test"));

        Assert.True(oldest.TakenBack.IsCancellationRequested);
        Assert.False(second.TakenBack.IsCancellationRequested);
        Assert.False(other.TakenBack.IsCancellationRequested);
        Assert.Equal(3, waiting.Held);
    }

    [Fact]
    public void TryEnter_EveryPlaceHeld_TakesBackFromThePeerHoldingTheMost()
    {
        var waiting = new WaitingChannels(perPeer: 3, total: 4);
        WaitingChannels.Place honest = waiting.TryEnter("honest")!;
        WaitingChannels.Place greedyOldest = waiting.TryEnter("greedy")!;
        Assert.NotNull(waiting.TryEnter("greedy"));
        Assert.NotNull(waiting.TryEnter("greedy"));

        Assert.NotNull(waiting.TryEnter("newcomer"));

        Assert.True(greedyOldest.TakenBack.IsCancellationRequested);
        Assert.False(honest.TakenBack.IsCancellationRequested);
        Assert.Equal(4, waiting.Held);
    }

    /// <summary>A place whose ticket came is never taken back; with no other, a new channel is refused.</summary>
    [Fact]
    public void TryEnter_OnlyPlacesWhoseTicketsCame_IsRefused()
    {
        var waiting = new WaitingChannels(perPeer: 1, total: 5);
        WaitingChannels.Place served = waiting.TryEnter("source.test")!;
        Assert.True(served.TicketArrived());

        Assert.Null(waiting.TryEnter("source.test"));
        Assert.False(served.TakenBack.IsCancellationRequested);
        served.Dispose();
        Assert.NotNull(waiting.TryEnter("source.test"));
    }

    [Fact]
    public void TicketArrived_AfterThePlaceWasTakenBack_IsFalse()
    {
        var waiting = new WaitingChannels(perPeer: 1, total: 5);
        WaitingChannels.Place oldest = waiting.TryEnter("source.test")!;
        Assert.NotNull(waiting.TryEnter("source.test"));

        Assert.False(oldest.TicketArrived());
    }

    [Fact]
    public void Dispose_Twice_GivesThePlaceBackOnce()
    {
        var waiting = new WaitingChannels(perPeer: 1, total: 2);
        WaitingChannels.Place place = waiting.TryEnter("a")!;
        using WaitingChannels.Place other = waiting.TryEnter("b")!;

        place.Dispose();
        place.Dispose();

        Assert.Equal(1, waiting.Held);
    }
}
