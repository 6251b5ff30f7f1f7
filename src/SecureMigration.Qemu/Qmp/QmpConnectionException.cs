namespace SecureMigration.Qemu.Qmp;

/// <summary>The QMP connection could not be opened, broke, or carried something that is not QMP.</summary>
public sealed class QmpConnectionException : QmpException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="message">What happened and what to check.</param>
    /// <param name="innerException">The cause, if any.</param>
    public QmpConnectionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
