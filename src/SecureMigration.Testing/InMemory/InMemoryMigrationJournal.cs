using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Testing.InMemory;

/// <summary>
/// A journal kept in memory, with the file journal's rules (phases checked by the state machine, sequence numbers,
/// stamps): for tests that need no disk. It survives a coordinator, not a process.
/// </summary>
public sealed class InMemoryMigrationJournal(string name, TimeProvider timeProvider) : IMigrationJournal
{
    private readonly Lock _gate = new();
    private readonly List<JournalRecord> _records = [];
    private readonly Dictionary<Guid, JournalRecord> _latest = [];

    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public JournalHead Head
    {
        get
        {
            lock (_gate)
            {
                return new JournalHead(_records.Count, _records.Count == 0 ? "" : _records[^1].Sequence.ToString("x16"));
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<JournalRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _records];
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<JournalRecord> LatestRecords
    {
        get
        {
            lock (_gate)
            {
                return [.. _latest.Values.OrderBy(r => r.Sequence)];
            }
        }
    }

    /// <inheritdoc />
    public JournalRecord? Latest(Guid migrationId)
    {
        lock (_gate)
        {
            return _latest.GetValueOrDefault(migrationId);
        }
    }

    /// <inheritdoc />
    public bool HasUnfinished(string vmId)
    {
        lock (_gate)
        {
            return _latest.Values.Any(r => r.VmId == vmId && !MigrationStateMachine.IsFinal(r.Phase));
        }
    }

    /// <inheritdoc />
    public ValueTask<JournalRecord> AppendAsync(JournalRecord record, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            MigrationStateMachine.EnsureFollows(record, _latest.GetValueOrDefault(record.MigrationId));
            JournalRecord stamped = record with { Sequence = _records.Count + 1, At = timeProvider.GetUtcNow() };
            _records.Add(stamped);
            _latest[stamped.MigrationId] = stamped;
            return ValueTask.FromResult(stamped);
        }
    }
}
