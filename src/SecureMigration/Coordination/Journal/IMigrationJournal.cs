using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination.Journal;

/// <summary>
/// The host's durable record of every migration's checkpoints, as the coordinator uses it. <see cref="MigrationJournal"/>
/// (an authenticated, fsynced file) is the default; another store must keep the same promises: <see cref="AppendAsync"/>
/// returns only once the record survives a crash of this process, refuses a phase that does not follow the migration's
/// last one (<see cref="IllegalPhaseTransitionException"/>), and stamps each record with the next sequence number.
/// </summary>
public interface IMigrationJournal
{
    /// <summary>Gets the journal's name in messages and in journal anchors (a file journal's full path).</summary>
    string Name { get; }

    /// <summary>Gets where the journal ends: its last record's sequence and authentication tag.</summary>
    JournalHead Head { get; }

    /// <summary>Gets a copy of every record, oldest first.</summary>
    IReadOnlyList<JournalRecord> Records { get; }

    /// <summary>Gets the latest record of every migration in the journal, oldest first.</summary>
    IReadOnlyList<JournalRecord> LatestRecords { get; }

    /// <summary>Gets the latest record of one migration, or <see langword="null"/> if the journal has none.</summary>
    /// <param name="migrationId">The migration.</param>
    /// <returns>Its latest record.</returns>
    JournalRecord? Latest(Guid migrationId);

    /// <summary>Gets whether a migration of <paramref name="vmId"/> is unfinished in the journal.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns><see langword="true"/> when its latest record is not a final phase.</returns>
    bool HasUnfinished(string vmId);

    /// <summary>Appends <paramref name="record"/> durably, stamped with the time and its sequence number.</summary>
    /// <param name="record">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the wait for the journal; a write that started completes.</param>
    /// <returns>The record as written.</returns>
    /// <exception cref="IllegalPhaseTransitionException">The phase does not follow the migration's last one.</exception>
    /// <exception cref="JournalWriteException">The record could not be made durable; nothing of it remains.</exception>
    ValueTask<JournalRecord> AppendAsync(JournalRecord record, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends several checkpoints in order, each following its migration's previous one (earlier records of the same call
    /// included). A store that can make them durable together (one write, one flush, all or none) should: the coordinator
    /// uses this where nothing happens between the checkpoints that a crash could leave half done. This default appends them
    /// one by one, so a crash may keep a prefix of them, which recovery treats as a crash between two checkpoints.
    /// </summary>
    /// <param name="records">The checkpoints, in order.</param>
    /// <param name="cancellationToken">Cancels the wait for the journal; a write that started completes.</param>
    /// <returns>The records as written.</returns>
    /// <exception cref="IllegalPhaseTransitionException">A phase does not follow its migration's last one.</exception>
    /// <exception cref="JournalWriteException">A record could not be made durable.</exception>
    async ValueTask<IReadOnlyList<JournalRecord>> AppendRangeAsync(IReadOnlyList<JournalRecord> records,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var written = new JournalRecord[records.Count];
        for (int i = 0; i < records.Count; i++)
        {
            written[i] = await AppendAsync(records[i], cancellationToken).ConfigureAwait(false);
        }

        return written;
    }
}
