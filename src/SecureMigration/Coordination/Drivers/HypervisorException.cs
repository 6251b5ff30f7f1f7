namespace SecureMigration.Coordination.Drivers;

/// <summary>
/// A hypervisor driver could not do a step: the hypervisor refused or failed it, did not answer, or is in a state the
/// step cannot start from. The coordinator treats it as it treats a broken channel: the migration rolls back, or
/// recovery leaves it to be finished later. Drivers derive their own errors from it, so the coordinator knows no
/// driver's types.
/// </summary>
public abstract class HypervisorException : MigrationException
{
    /// <summary>Initializes the exception with a message and an optional cause.</summary>
    /// <param name="message">A full sentence that says what was wrong and what to do.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    protected HypervisorException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
