namespace SecureMigration.Storage;

/// <summary>
/// The file opened under a path is not the one recorded under it earlier (another device or inode): something
/// replaced it in between, so it is not touched. Nothing was written.
/// </summary>
public sealed class FileReplacedException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The path.</param>
    /// <param name="expected">The identity recorded earlier.</param>
    /// <param name="actual">The identity of the file opened now.</param>
    public FileReplacedException(string path, FileIdentity expected, FileIdentity actual)
        : base($"'{path}' is no longer the file recorded for it (device:inode {expected} then, {actual} now): something replaced it in " +
            $"between. " +
            "Nothing was written. Find out what replaced it before running the operation again.")
    {
        Path = path;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Gets the path.</summary>
    public string Path { get; }

    /// <summary>Gets the identity recorded earlier.</summary>
    public FileIdentity Expected { get; }

    /// <summary>Gets the identity of the file opened now.</summary>
    public FileIdentity Actual { get; }
}
