using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A journal in front of another that records the phases of each write it was asked for, one list per write; a write of
/// <see cref="HoldAt"/> waits, once it is asked for, until <see cref="Release"/> (a slow disk at that checkpoint).
/// </summary>
internal sealed class RecordingJournal(IMigrationJournal inner) : IMigrationJournal
{
    private readonly Lock _gate = new();
    private readonly List<MigrationPhase[]> _writes = [];
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets or sets the phase whose write waits for <see cref="Release"/>.</summary>
    public MigrationPhase? HoldAt { get; init; }

    /// <summary>Gets a task that completes when the write of <see cref="HoldAt"/> is waiting.</summary>
    public Task Held => _held.Task;

    /// <summary>Lets the held write through.</summary>
    public void Release() => _released.TrySetResult();

    /// <summary>Gets the phases of each write so far, in order.</summary>
    public IReadOnlyList<MigrationPhase[]> Writes
    {
        get
        {
            lock (_gate)
            {
                return [.. _writes];
            }
        }
    }

    public string Name => inner.Name;

    public JournalHead Head => inner.Head;

    public IReadOnlyList<JournalRecord> Records => inner.Records;

    public IReadOnlyList<JournalRecord> LatestRecords => inner.LatestRecords;

    public JournalRecord? Latest(Guid migrationId) => inner.Latest(migrationId);

    public bool HasUnfinished(string vmId) => inner.HasUnfinished(vmId);

    public async ValueTask<JournalRecord> AppendAsync(JournalRecord record, CancellationToken cancellationToken = default)
    {
        await RecordAsync([record]);
        return await inner.AppendAsync(record, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<JournalRecord>> AppendRangeAsync(IReadOnlyList<JournalRecord> records,
        CancellationToken cancellationToken = default)
    {
        await RecordAsync(records);
        return await inner.AppendRangeAsync(records, cancellationToken);
    }

    private async Task RecordAsync(IReadOnlyList<JournalRecord> records)
    {
        lock (_gate)
        {
            _writes.Add([.. records.Select(r => r.Phase)]);
        }

        if (records.Any(r => r.Phase == HoldAt))
        {
            _held.TrySetResult();
            await _released.Task;
        }
    }
}
