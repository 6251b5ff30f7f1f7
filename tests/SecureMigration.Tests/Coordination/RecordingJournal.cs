using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

/// <summary>A journal in front of another that records the phases of each write it was asked for, one list per write.</summary>
internal sealed class RecordingJournal(IMigrationJournal inner) : IMigrationJournal
{
    private readonly Lock _gate = new();
    private readonly List<MigrationPhase[]> _writes = [];

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

    public ValueTask<JournalRecord> AppendAsync(JournalRecord record, CancellationToken cancellationToken = default)
    {
        Record([record]);
        return inner.AppendAsync(record, cancellationToken);
    }

    public ValueTask<IReadOnlyList<JournalRecord>> AppendRangeAsync(IReadOnlyList<JournalRecord> records,
        CancellationToken cancellationToken = default)
    {
        Record(records);
        return inner.AppendRangeAsync(records, cancellationToken);
    }

    private void Record(IReadOnlyList<JournalRecord> records)
    {
        lock (_gate)
        {
            _writes.Add([.. records.Select(r => r.Phase)]);
        }
    }
}
