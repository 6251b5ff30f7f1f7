namespace SecureMigration;

/// <summary>
/// The base of every error SecureMigration raises. Each subclass is sealed and carries the data that
/// explains the failure; the message says what was wrong and what to do.
/// </summary>
public abstract class MigrationException : Exception
{
    /// <summary>Initializes the exception with a message and an optional cause.</summary>
    /// <param name="message">A full sentence that says what was wrong and what to do.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    protected MigrationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
