namespace SecureMigration.Coordination.Journal;

/// <summary>
/// The journal was edited or damaged before its tail (a record fails its authentication code and others follow), was
/// written with another host key, or is not a journal. Nothing in it is trusted.
/// </summary>
public sealed class JournalCorruptedException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The journal file.</param>
    /// <param name="offset">Where the first bad byte is.</param>
    /// <param name="problem">What is wrong there.</param>
    public JournalCorruptedException(string path, long offset, string problem)
        : base($"The migration journal '{path}' cannot be trusted: at byte {offset} {problem}. It was edited, damaged, or written with " +
            $"another host key. " +
            "Keep the file for investigation, check the VMs' ownership with 'secmig status', and start a new journal only once each VM " +
                "has exactly one owner.")
    {
        Path = path;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>Gets the journal file.</summary>
    public string Path { get; }

    /// <summary>Gets the offset of the first bad byte.</summary>
    public long Offset { get; }

    /// <summary>Gets what is wrong there.</summary>
    public string Problem { get; }
}
