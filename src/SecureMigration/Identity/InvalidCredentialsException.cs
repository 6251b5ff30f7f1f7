namespace SecureMigration.Identity;

/// <summary>A certificate, key, CA bundle or pre-shared key could not be loaded or is unfit for use.</summary>
public sealed class InvalidCredentialsException : MigrationException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="source">The file or input the credential came from.</param>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public InvalidCredentialsException(string source, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Source = source;
    }

    /// <summary>Gets the file or input the credential came from.</summary>
    public new string Source { get; }
}
