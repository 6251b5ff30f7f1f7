namespace SecureMigration.Qemu.Qmp;

/// <summary>QEMU did not answer a command, or an awaited event did not come, in time.</summary>
public sealed class QmpTimeoutException : QmpException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="what">What was awaited (a command or an event).</param>
    /// <param name="timeout">How long.</param>
    /// <param name="option">The setting that gave <paramref name="timeout"/>, named in the message (for example
    /// <c>QmpClientOptions.CommandTimeout</c>).</param>
    public QmpTimeoutException(string what, TimeSpan timeout, string option)
        : base($"QEMU did not answer {what} within {timeout.TotalSeconds:0.###} s; check that the VM's QEMU is alive and its monitor not " +
            $"busy, or raise {option}.")
    {
        What = what;
        Timeout = timeout;
    }

    /// <summary>Gets what was awaited.</summary>
    public string What { get; }

    /// <summary>Gets how long it was awaited.</summary>
    public TimeSpan Timeout { get; }
}
