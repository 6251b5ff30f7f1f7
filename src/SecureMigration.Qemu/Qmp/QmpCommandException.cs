namespace SecureMigration.Qemu.Qmp;

/// <summary>QEMU refused or failed a command; the message carries QEMU's own words.</summary>
public sealed class QmpCommandException : QmpException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="command">The command.</param>
    /// <param name="errorClass">QEMU's error class (for example <c>GenericError</c>, <c>CommandNotFound</c>).</param>
    /// <param name="description">QEMU's description of the error.</param>
    public QmpCommandException(string command, string errorClass, string description)
        : base($"QEMU refused '{command}': {description} ({errorClass}).")
    {
        Command = command;
        ErrorClass = errorClass;
        Description = description;
    }

    /// <summary>Gets the command QEMU refused.</summary>
    public string Command { get; }

    /// <summary>Gets QEMU's error class.</summary>
    public string ErrorClass { get; }

    /// <summary>Gets QEMU's description of the error, as QEMU wrote it.</summary>
    public string Description { get; }
}
