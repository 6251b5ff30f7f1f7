namespace SecureMigration.Coordination.Journal;

/// <summary>
/// The journal ends before the head anchored outside the host: it was replaced by an older copy, so it may have
/// forgotten a commit or a migration in flight, and recovery on its word could leave two runnable copies.
/// </summary>
public sealed class JournalRolledBackException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The journal file.</param>
    /// <param name="journal">Where the journal ends.</param>
    /// <param name="anchored">The head anchored for this host.</param>
    public JournalRolledBackException(string path, JournalHead journal, JournalHead anchored)
        : base($"The migration journal '{path}' ends at record {journal.Sequence}, but the registry anchored record {anchored.Sequence} " +
            $"({(journal.Sequence == anchored.Sequence ? "the same length with another history" : "a later one")}): it was replaced by " +
                $"an older or another copy. " +
            "Nothing was recovered. Restore the newest journal of this host, or check every VM's ownership with 'secmig status' before " +
                "starting a new journal.")
    {
        Path = path;
        Journal = journal;
        Anchored = anchored;
    }

    /// <summary>Gets the journal file.</summary>
    public string Path { get; }

    /// <summary>Gets where the journal ends.</summary>
    public JournalHead Journal { get; }

    /// <summary>Gets the head anchored for this host.</summary>
    public JournalHead Anchored { get; }
}
