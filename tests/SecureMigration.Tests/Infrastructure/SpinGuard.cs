using System.IO.Pipelines;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Wraps a reader and counts its reads against a shared budget: a loop that reads again without making progress or
/// waiting runs through the budget at once and fails with <see cref="SpinDetectedException"/> instead of pinning a core.
/// </summary>
public sealed class SpinGuard(int budget)
{
    private int _reads;

    public PipeReader Guard(PipeReader inner) => new GuardedReader(inner, this);

    private void Count()
    {
        if (Interlocked.Increment(ref _reads) > budget)
        {
            throw new SpinDetectedException($"more than {budget} reads: a read loop spins instead of waiting for data");
        }
    }

    private sealed class GuardedReader(PipeReader inner, SpinGuard guard) : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            guard.Count();
            return inner.ReadAsync(cancellationToken);
        }

        public override bool TryRead(out ReadResult result)
        {
            guard.Count();
            return inner.TryRead(out result);
        }

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }
}

/// <summary>A read loop made no progress and did not wait.</summary>
public sealed class SpinDetectedException(string message) : Exception(message);
