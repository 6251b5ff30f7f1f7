namespace SecureMigration.Sanitization;

/// <summary>The target is in use by another process; nothing was written.</summary>
public sealed class FileInUseException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The target.</param>
    /// <param name="problem">Who holds it.</param>
    /// <param name="innerException">The cause, if any.</param>
    public FileInUseException(string path, string problem, Exception? innerException = null)
        : base($"'{path}' is in use: {problem}. Nothing was written. Stop the process that uses it (shut the VM down), or pass --force " +
            $"(SanitizerOptions.Force) if you are sure it may be destroyed.", innerException)
    {
        Path = path;
    }

    /// <summary>Gets the target.</summary>
    public string Path { get; }
}
