using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Qemu;

/// <summary>A VM is unknown to this driver, or its QEMU is in a state the requested step cannot start from.</summary>
public sealed class QemuVmException : HypervisorException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="message">What is wrong and what to do.</param>
    public QemuVmException(string vmId, string message)
        : base(message)
    {
        VmId = vmId;
    }

    /// <summary>Gets the VM.</summary>
    public string VmId { get; }
}
