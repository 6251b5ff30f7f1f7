namespace SecureMigration.Tests.Etcd.Linearizability;

/// <summary>The history checker on histories small enough to judge by hand: it must accept the legal ones and refuse the rest.</summary>
public sealed class CasRegisterCheckerTests
{
    private static readonly RegisterState Start = new(1, "src", null);
    private static readonly MoveRequest ToA = new(1, "src", "a", Guid.NewGuid());
    private static readonly MoveRequest ToB = new(1, "src", "b", Guid.NewGuid());

    [Fact]
    public void ConcurrentSwapsFromOneEpoch_OneWinning_AreLinearizable()
    {
        RegisterOperation[] history =
        [
            new(0, 1, 4, ToA, Moved: true, ToA.Next),
            new(1, 2, 3, ToB, Moved: false, ToA.Next), // overlaps the winner, so it may come after it
        ];

        Assert.Null(CasRegisterChecker.Check(history, Start));
    }

    [Fact]
    public void TwoSwapsFromOneEpoch_BothWinning_AreRefused()
    {
        RegisterOperation[] history =
        [
            new(0, 1, 4, ToA, Moved: true, ToA.Next),
            new(1, 2, 3, ToB, Moved: true, ToB.Next),
        ];

        Assert.NotNull(CasRegisterChecker.Check(history, Start));
    }

    [Fact]
    public void AStaleRead_AfterAMoveReturned_IsRefused()
    {
        RegisterOperation[] history =
        [
            new(0, 1, 2, ToA, Moved: true, ToA.Next),
            new(1, 3, 4, null, Moved: false, Start), // began after the move returned, yet saw the old owner
        ];

        Assert.NotNull(CasRegisterChecker.Check(history, Start));
    }

    [Fact]
    public void AReadOverlappingAMove_MaySeeEitherValue()
    {
        RegisterOperation[] old = [new(0, 1, 4, ToA, Moved: true, ToA.Next), new(1, 2, 3, null, Moved: false, Start)];
        RegisterOperation[] @new = [new(0, 1, 4, ToA, Moved: true, ToA.Next), new(1, 2, 3, null, Moved: false, ToA.Next)];

        Assert.Null(CasRegisterChecker.Check(old, Start));
        Assert.Null(CasRegisterChecker.Check(@new, Start));
    }

    [Fact]
    public void AnUnknownSwap_MayHaveHappenedLater_OrNever()
    {
        // The client saw its swap fail to return; a read long after finds the swap applied, another found it not yet.
        RegisterOperation[] applied = [new(0, 1, null, ToA, Moved: false, null), new(1, 5, 6, null, Moved: false, ToA.Next)];
        RegisterOperation[] never = [new(0, 1, null, ToA, Moved: false, null), new(1, 5, 6, null, Moved: false, Start)];
        RegisterOperation[] impossible = [new(0, 1, null, ToA, Moved: false, null), new(1, 5, 6, null, Moved: false, ToB.Next)];

        Assert.Null(CasRegisterChecker.Check(applied, Start));
        Assert.Null(CasRegisterChecker.Check(never, Start));
        Assert.NotNull(CasRegisterChecker.Check(impossible, Start));
    }

    [Fact]
    public void ASwapThatFailsWhileTheValueMatches_IsRefused()
    {
        RegisterOperation[] history = [new(0, 1, 2, ToA, Moved: false, Start)];

        Assert.NotNull(CasRegisterChecker.Check(history, Start));
    }
}
