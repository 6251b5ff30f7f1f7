using System.Net;

namespace SecureMigration.Qemu;

/// <summary>A VM this host's <see cref="QemuDriver"/> may drive: its id in SecureMigration, and its QEMU monitor.</summary>
public sealed class QemuVm
{
    /// <summary>Creates the description of a VM.</summary>
    /// <param name="id">The VM's id, as tickets and the ownership registry name it.</param>
    /// <param name="monitor">Its QEMU's QMP monitor (see <see cref="Qmp.QmpEndPoints.Parse"/>); reserve a monitor for SecureMigration,
    /// since QEMU serves one client per monitor.</param>
    public QemuVm(string id, EndPoint monitor)
    {
        Text.VmIds.EnsureValid(id);
        Id = id;
        Monitor = monitor ?? throw new ArgumentNullException(nameof(monitor));
    }

    /// <summary>Gets the VM's id.</summary>
    public string Id { get; }

    /// <summary>Gets its QMP monitor.</summary>
    public EndPoint Monitor { get; }

    /// <summary>
    /// Gets the files this host keeps of the VM that become residue when its copy here is stopped for good (a local disk
    /// copy, a state file). The driver adds the VM's file-backed RAM (<c>memory-backend-file</c>) itself. Never list a
    /// disk on storage the other host shares: after a commit the destination runs on it.
    /// </summary>
    public IList<string> Images { get; } = [];

    /// <summary>A copy, images included, that later changes to this VM's description do not reach.</summary>
    /// <returns>The copy.</returns>
    internal QemuVm Snapshot()
    {
        var copy = new QemuVm(Id, Monitor);
        foreach (string image in Images)
        {
            copy.Images.Add(image);
        }

        return copy;
    }
}
