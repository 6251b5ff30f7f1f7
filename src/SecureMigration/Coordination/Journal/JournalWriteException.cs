namespace SecureMigration.Coordination.Journal;

/// <summary>A record could not be made durable (for example the disk is full); the migration does not act on it.</summary>
public sealed class JournalWriteException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The journal file.</param>
    /// <param name="record">The record that was not written.</param>
    /// <param name="innerException">The I/O error.</param>
    public JournalWriteException(string path, JournalRecord record, Exception innerException)
        : base($"The migration journal '{path}' could not record that migration {record.MigrationId} of VM '{record.VmId}' entered " +
            $"{record.Phase} " +
            $"({innerException.Message}). The migration does not go on without its checkpoint; free disk space and run recovery.",
                innerException)
    {
        Path = path;
        Record = record;
    }

    /// <summary>Gets the journal file.</summary>
    public string Path { get; }

    /// <summary>Gets the record that was not written.</summary>
    public JournalRecord Record { get; }
}
