namespace SecureMigration.Storage;

/// <summary>
/// A file SecureMigration was to wipe, delete, truncate or snapshot is, or lies under, a symbolic link: it is never
/// followed, since whoever can write the link's directory could point it at any file. Nothing was written.
/// </summary>
public sealed class SymbolicLinkRefusedException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The path that was refused.</param>
    /// <param name="link">The symbolic link in it (the path itself or one of its parent directories).</param>
    public SymbolicLinkRefusedException(string path, string link)
        : base($"'{path}' was refused because '{link}' is a symbolic link, and SecureMigration never follows one to a file it wipes, " +
            $"deletes, truncates or snapshots " +
            "(whoever can write that directory could point it at any file). Nothing was written. If the link is yours, give the real " +
                "path instead " +
            $"(realpath '{path}'); otherwise find out who created it.")
    {
        Path = path;
        Link = link;
    }

    /// <summary>Gets the path that was refused.</summary>
    public string Path { get; }

    /// <summary>Gets the symbolic link in it.</summary>
    public string Link { get; }
}
