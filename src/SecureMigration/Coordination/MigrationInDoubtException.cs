namespace SecureMigration.Coordination;

/// <summary>
/// The coordinator cannot tell whether the migration committed (the ownership registry could not be reached after the
/// commit was requested), so it neither resumes nor discards the source's copy: the VM stays paused until recovery
/// can ask the registry. This is the price of never running two copies.
/// </summary>
public sealed class MigrationInDoubtException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="migrationId">The migration.</param>
    /// <param name="vmId">The VM.</param>
    /// <param name="problem">Why the outcome is unknown.</param>
    /// <param name="innerException">The cause.</param>
    public MigrationInDoubtException(Guid migrationId, string vmId, string problem, Exception? innerException = null)
        : base($"Migration {migrationId} of VM '{vmId}' is in doubt: {problem}. The VM stays paused on the source and is not resumed or " +
            $"discarded; " +
            "restore access to the ownership registry and run recovery ('secmig recover'), which finishes it one way or the other.",
                innerException)
    {
        MigrationId = migrationId;
        VmId = vmId;
        Problem = problem;
    }

    /// <summary>Gets the migration.</summary>
    public Guid MigrationId { get; }

    /// <summary>Gets the VM.</summary>
    public string VmId { get; }

    /// <summary>Gets why the outcome is unknown.</summary>
    public string Problem { get; }
}
