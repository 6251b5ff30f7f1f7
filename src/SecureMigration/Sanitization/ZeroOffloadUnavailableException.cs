namespace SecureMigration.Sanitization;

/// <summary>A wipe that required its zeros offloaded (<see cref="ZeroOffload.Require"/>) found a target that cannot take it. Nothing was
/// written.</summary>
public sealed class ZeroOffloadUnavailableException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="target">The file or device.</param>
    /// <param name="problem">Why, as a sentence fragment.</param>
    public ZeroOffloadUnavailableException(string target, string problem)
        : base($"'{target}' cannot have its zeros offloaded: {problem}. Nothing was written; use ZeroOffload.Auto (--zero-offload auto) " +
            "to write them where the device cannot.")
    {
        Target = target;
    }

    /// <summary>Gets the file or device.</summary>
    public string Target { get; }
}
