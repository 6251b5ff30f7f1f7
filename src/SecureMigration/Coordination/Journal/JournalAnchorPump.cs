using SecureMigration.Threading;

namespace SecureMigration.Coordination.Journal;

/// <summary>
/// Anchors a journal's head off a migration's path. A checkpoint hands its head over and goes on at once; one write at a time
/// carries the furthest head handed over so far, so heads handed over while a write runs are covered by the next one (an
/// anchor only moves forward). An anchor that lags the journal is normal (<see cref="IJournalAnchor"/>); the
/// coordinator waits for <see cref="SerialWriter{T}.FlushAsync"/> before a migration returns and at recovery, where the
/// anchor must be current. A failed write is logged and the head is anchored again at the next checkpoint.
/// </summary>
internal sealed class JournalAnchorPump : SerialWriter<JournalHead>
{
    private readonly IJournalAnchor _anchor;
    private readonly string _journal;
    private readonly Action<Exception> _failed;
    private JournalHead? _pending;

    /// <summary>Creates a pump that anchors <paramref name="journal"/>'s heads in <paramref name="anchor"/> and tells
    /// <paramref name="failed"/> of each write that failed.</summary>
    public JournalAnchorPump(IJournalAnchor anchor, string journal, Action<Exception> failed)
    {
        _anchor = anchor;
        _journal = journal;
        _failed = failed;
    }

    /// <summary>Hands <paramref name="head"/> over to be anchored, and returns without waiting for the write.</summary>
    public void Advance(JournalHead head) => Hand(() =>
    {
        if (_pending is null || head.Sequence > _pending.Sequence)
        {
            _pending = head;
        }
    });

    /// <inheritdoc />
    protected override bool TryTake(out JournalHead head)
    {
        head = _pending!;
        _pending = null;
        return head is not null;
    }

    /// <inheritdoc />
    protected override async Task WriteAsync(JournalHead head)
    {
        try
        {
            await _anchor.AnchorHeadAsync(_journal, head).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Best effort by design: no failure of the registry may stop a migration or its rollback, and nobody awaits
            // this write to hear of it.
            _failed(e);
        }
    }
}
