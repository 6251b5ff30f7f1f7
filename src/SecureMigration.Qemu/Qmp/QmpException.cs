using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Qemu.Qmp;

/// <summary>
/// A failure talking to QEMU over QMP. It is a <see cref="HypervisorException"/>: to the coordinator the hypervisor is a
/// peer like the network, and a failed hypervisor call rolls the migration back.
/// </summary>
public abstract class QmpException : HypervisorException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause, if any.</param>
    protected QmpException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
