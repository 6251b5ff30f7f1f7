using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Qemu;

/// <summary>
/// QEMU's own migration failed (it reported <c>failed</c> or <c>cancelled</c>, or the stream ended before QEMU completed it).
/// </summary>
public sealed class QemuMigrationException : HypervisorException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="status">QEMU's migration status.</param>
    /// <param name="message">What happened, with QEMU's own error where it gave one.</param>
    public QemuMigrationException(string vmId, string status, string message)
        : base(message)
    {
        VmId = vmId;
        Status = status;
    }

    /// <summary>Gets the VM.</summary>
    public string VmId { get; }

    /// <summary>Gets QEMU's migration status when it ended.</summary>
    public string Status { get; }
}
