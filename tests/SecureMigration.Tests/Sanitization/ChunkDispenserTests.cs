using SecureMigration.Sanitization;

namespace SecureMigration.Tests.Sanitization;

/// <summary>How a pass's chunks go to its slots out of order, and what a checkpoint may claim meanwhile.</summary>
public sealed class ChunkDispenserTests
{
    private const long Chunk = 100;

    [Fact]
    public void ASlotWhoseWriteCompleted_TakesTheNextChunk_WhileAnOlderWriteIsStillAtTheDevice()
    {
        ChunkDispenser dispenser = ThreeInFlight(checkpointInterval: 0);

        dispenser.Complete(2, Chunk);
        Take(dispenser, 2, 3);
        dispenser.Complete(1, Chunk);
        Take(dispenser, 1, 4);

        Assert.Equal(2 * Chunk, dispenser.Done);
    }

    [Fact]
    public void ACheckpoint_ClaimsOnlyTheChunksBelowTheOldestWriteStillInFlight()
    {
        // Defense: the checkpoint is what a resumed wipe skips; claiming a chunk whose write had not completed would leave
        // its old data on the device for good.
        ChunkDispenser dispenser = ThreeInFlight(checkpointInterval: 2 * Chunk);
        Assert.Equal(-1, dispenser.Complete(1, Chunk));
        Take(dispenser, 1, 3);

        int claim = dispenser.Complete(2, Chunk);

        Assert.Equal(0, claim);
        dispenser.CheckpointWritten(claim);
        Take(dispenser, 2, 4);
        Assert.Equal(-1, dispenser.Complete(0, Chunk));
        Take(dispenser, 0, 5);
        Assert.Equal(4, dispenser.Complete(1, Chunk));
    }

    [Fact]
    public void ACheckpointDueWhileAnotherIsBeingWritten_IsLeftToTheNextCompletion()
    {
        var dispenser = new ChunkDispenser(2, 0, 10, 0, Chunk, default);
        Take(dispenser, 0, 0);
        Take(dispenser, 1, 1);
        Assert.Equal(1, dispenser.Complete(0, Chunk));
        Take(dispenser, 0, 2);

        Assert.Equal(-1, dispenser.Complete(1, Chunk));
        dispenser.CheckpointWritten(1);
        Take(dispenser, 1, 3);

        Assert.Equal(3, dispenser.Complete(0, Chunk));
    }

    [Fact]
    public void AfterACheckpointFailedToBeWritten_NoOtherIsClaimed_AndItsErrorEndsThePass()
    {
        // Defense: a flush that failed reports its error once; a later flush of the same file succeeds over the pages it lost,
        // so a checkpoint claimed after the failure would let a resumed wipe skip chunks that never reached the disk.
        var dispenser = new ChunkDispenser(2, 0, 10, 0, Chunk, default);
        Take(dispenser, 0, 0);
        Take(dispenser, 1, 1);
        Assert.Equal(1, dispenser.Complete(0, Chunk));

        dispenser.CheckpointFailed(new IOException("fsync: EIO"));

        Assert.Equal(-1, dispenser.Complete(1, Chunk));
        Assert.False(dispenser.TryTake(1, out _));
        Assert.Equal("fsync: EIO", Assert.Throws<IOException>(dispenser.ThrowIfFailed).Message);
    }

    [Fact]
    public void AfterAWriteFailed_TheWritesStillLandingClaimNoCheckpoint()
    {
        var dispenser = new ChunkDispenser(2, 0, 10, 0, Chunk, default);
        Take(dispenser, 0, 0);
        Take(dispenser, 1, 1);

        dispenser.Fail(new IOException("write: EIO"));

        Assert.Equal(-1, dispenser.Complete(1, Chunk));
    }

    [Fact]
    public void ACheckpointThatWouldClaimNoMoreThanTheLast_IsNotWrittenAgain()
    {
        ChunkDispenser dispenser = ThreeInFlight(checkpointInterval: Chunk);
        int claim = dispenser.Complete(1, Chunk);
        Assert.Equal(0, claim);
        dispenser.CheckpointWritten(claim);
        Take(dispenser, 1, 3);

        // Chunk 0 is still at the device: the claim would be 0 again.
        Assert.Equal(-1, dispenser.Complete(2, Chunk));
        Take(dispenser, 2, 4);
        Assert.Equal(3, dispenser.Complete(0, Chunk));
    }

    [Fact]
    public void AResumedPass_StartsAtItsFirstChunk_AndCountsTheBytesBefore()
    {
        var dispenser = new ChunkDispenser(2, 7, 9, 7 * Chunk, 0, default);
        Take(dispenser, 0, 7);
        Take(dispenser, 1, 8);

        Assert.False(dispenser.TryTake(0, out _));
        dispenser.Complete(0, Chunk);
        Assert.Equal(8 * Chunk, dispenser.Done);
    }

    [Fact]
    public void AfterTheFirstFailure_NoChunkIsHandedOut_AndThatFailureIsTheOneThrown()
    {
        var dispenser = new ChunkDispenser(2, 0, 10, 0, 0, default);
        Take(dispenser, 0, 0);
        Take(dispenser, 1, 1);

        dispenser.Fail(new IOException("first"));
        dispenser.Fail(new OperationCanceledException("second"));

        Assert.False(dispenser.TryTake(0, out _));
        IOException thrown = Assert.Throws<IOException>(dispenser.ThrowIfFailed);
        Assert.Equal("first", thrown.Message);
    }

    /// <summary>Three slots, ten chunks, the first three handed out in order.</summary>
    private static ChunkDispenser ThreeInFlight(long checkpointInterval)
    {
        var dispenser = new ChunkDispenser(3, 0, 10, 0, checkpointInterval, default);
        Take(dispenser, 0, 0);
        Take(dispenser, 1, 1);
        Take(dispenser, 2, 2);
        return dispenser;
    }

    private static void Take(ChunkDispenser dispenser, int slot, int expected)
    {
        Assert.True(dispenser.TryTake(slot, out int index));
        Assert.Equal(expected, index);
    }
}
