using System.Runtime.ExceptionServices;

namespace SecureMigration.Sanitization;

/// <summary>
/// Hands a pass's chunks to its I/O slots in order, each slot taking the next chunk as soon as its own write completes, so
/// no slot waits for an older write of another (a ring that retired its writes oldest first left finished slots idle behind
/// a slow one: the zero pass ran at 0.91× and the random pass at 0.80× of bare threads doing the same writes). It tells
/// which chunks a checkpoint may claim — those below the oldest still being written, all of whose writes completed — and
/// lets one checkpoint be written at a time. The first failure ends the pass: no chunk is handed out after it. A verification
/// takes its chunks from one too, and stops handing out those past a difference it found.
/// </summary>
internal sealed class ChunkDispenser
{
    private const int Idle = int.MaxValue;

    private readonly Lock _gate = new();
    private readonly int[] _writing;
    private int _end;
    private readonly long _checkpointInterval;
    private readonly PassProgress _progress;
    private int _next;
    private long _done;
    private long _sinceCheckpoint;
    private bool _checkpointing;
    private int _claimed = -1;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Dispenses chunks <paramref name="first"/> to <paramref name="end"/> (exclusive) to <paramref name="slots"/> slots;
    /// <paramref name="done"/> bytes of the pass were written before the first; with a <paramref name="checkpointInterval"/>
    /// (0: none), a checkpoint is due after that many bytes.</summary>
    public ChunkDispenser(int slots, int first, int end, long done, long checkpointInterval, PassProgress progress)
    {
        _writing = [.. Enumerable.Repeat(Idle, slots)];
        (_next, _end, _done, _checkpointInterval, _progress) = (first, end, done, checkpointInterval, progress);
    }

    /// <summary>Gets the bytes of the pass written so far.</summary>
    public long Done
    {
        get
        {
            lock (_gate)
            {
                return _done;
            }
        }
    }

    /// <summary>Takes the next chunk for <paramref name="slot"/>, whose previous write (if any) was completed; false when none is
    /// left or the pass failed.</summary>
    public bool TryTake(int slot, out int index)
    {
        lock (_gate)
        {
            if (_failure is not null || _next >= _end)
            {
                index = -1;
                return false;
            }

            index = _next++;
            _writing[slot] = index;
            return true;
        }
    }

    /// <summary>
    /// Records that <paramref name="slot"/>'s write of <paramref name="length"/> bytes completed and reports the progress;
    /// returns how many chunks a checkpoint due now claims, or -1 when none is due, another is being written, the claim would
    /// be the last one again or the pass failed. A caller given a claim writes the checkpoint, then calls
    /// <see cref="CheckpointWritten"/> or, if that failed, <see cref="CheckpointFailed"/>.
    /// </summary>
    public int Complete(int slot, long length)
    {
        lock (_gate)
        {
            _writing[slot] = Idle;
            _done += length;
            _sinceCheckpoint += length;
            _progress.Report(_done);
            // After a failure nothing more is claimed: a failed flush reports its error once, and the next flush of the same
            // file would succeed over the pages it lost, so a later checkpoint would claim chunks that never reached the disk.
            if (_failure is not null || _checkpointInterval <= 0 || _checkpointing || _sinceCheckpoint < _checkpointInterval)
            {
                return -1;
            }

            int claim = Math.Min(_writing.Min(), _next);
            if (claim == _claimed)
            {
                // A slow write holds the oldest chunk: the last checkpoint already says as much.
                return -1;
            }

            _checkpointing = true;
            _sinceCheckpoint = 0;
            return claim;
        }
    }

    /// <summary>Hands out no chunk from <paramref name="index"/> on (a verification that found a difference there needs only the
    /// chunks before it); the chunks before it were all handed out already.</summary>
    public void EndAt(int index)
    {
        lock (_gate)
        {
            _end = Math.Min(_end, index);
        }
    }

    /// <summary>Records that the checkpoint claiming <paramref name="claim"/> chunks was written, and lets the next be claimed.</summary>
    public void CheckpointWritten(int claim)
    {
        lock (_gate)
        {
            _claimed = claim;
            _checkpointing = false;
        }
    }

    /// <summary>Ends the pass with the error that writing the claimed checkpoint raised, in the same step that lets another
    /// checkpoint be claimed, so none is.</summary>
    public void CheckpointFailed(Exception error)
    {
        lock (_gate)
        {
            _failure ??= ExceptionDispatchInfo.Capture(error);
            _checkpointing = false;
        }
    }

    /// <summary>Ends the pass with <paramref name="error"/> unless it already failed: the first failure is the one reported.</summary>
    public void Fail(Exception error)
    {
        lock (_gate)
        {
            _failure ??= ExceptionDispatchInfo.Capture(error);
        }
    }

    /// <summary>Throws the pass's first failure, if any.</summary>
    public void ThrowIfFailed()
    {
        lock (_gate)
        {
            _failure?.Throw();
        }
    }
}
