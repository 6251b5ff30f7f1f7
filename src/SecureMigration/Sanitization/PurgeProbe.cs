namespace SecureMigration.Sanitization;

/// <summary>
/// Finds what the hardware under a block device offers for a purge (<see cref="PurgeCapabilities"/>): asks NVMe, ATA and
/// SCSI drives for their identify data, and says plainly why a loop device, a volume or a virtual disk has no purge of its own.
/// </summary>
internal static class PurgeProbe
{
    /// <summary>Said of every device: this tool reports, it never purges.</summary>
    public const string NotRun = "No purge was run: SecureMigration reports what the drive offers but never starts one " +
        "(a purge erases the whole drive, not the target's extents).";

    /// <summary>Describes what a purge of the device open on <paramref name="descriptor"/> would take.</summary>
    public static PurgeCapabilities Probe(int descriptor, BlockDeviceProperties device)
    {
        string whole = device.PartitionOf is { } disk
            ? $" A purge erases the whole drive ({disk}) with every partition of it, not only this one."
            : string.Empty;
        (IReadOnlyList<string> offered, string found) = device.Transport switch
        {
            "loop" => ([], $"A loop device over '{device.BackingFile}': no drive command reaches that file's blocks; a purge would be " +
                "of the drive under the file system that holds it, with everything else on it."),
            "device-mapper" or "md" => ([], $"A {(device.Transport == "md" ? "RAID" : "device-mapper")} volume built on " +
                $"{(device.BuiltOn.Count == 0 ? "devices it does not name" : string.Join(", ", device.BuiltOn))}: a purge erases " +
                "whole drives, not one volume; purge each of them once nothing else lives there."),
            "virtio" => ([], "A virtual disk: its data lives in the hypervisor's storage, which no command from this machine reaches; " +
                "ask the platform how it purges a deleted volume."),
            "nvme" => Nvme(descriptor),
            "ata" => Ata(descriptor, "ATA drive"),
            "scsi" => Scsi(descriptor),
            "usb" or "ufs" => ([], $"A drive behind {(device.Transport == "usb" ? "a USB bridge" : "a UFS host")}: it was not asked " +
                "for its identify data, since some such devices hang on those commands (the kernel itself avoids sending them); " +
                "the drive's maker's tool says what purge it offers."),
            "mmc" => ([], "An eMMC or SD device: its secure erase is BLKSECDISCARD (SanitizerOptions.SecureDiscard), which Linux " +
                "runs only where the card supports it."),
            _ => ([], $"A {device.Transport} device: no purge command is known for it."),
        };
        return new PurgeCapabilities
        {
            Offered = offered,
            Assessment = (offered.Count > 0 ? found + whole : found) + " " + NotRun,
        };
    }

    private static (IReadOnlyList<string>, string) Nvme(int descriptor)
    {
        if (NvmeIdentify.Read(descriptor, out string? problem) is not { } controller)
        {
            return ([], $"An NVMe drive whose controller did not answer Identify ({problem}).");
        }

        List<string> offered = NvmeIdentify.Offered(controller);
        return (offered, offered.Count == 0
            ? "An NVMe drive whose controller supports neither Sanitize nor Format NVM."
            : "An NVMe drive; its controller's Identify data offers what is listed.");
    }

    private static (IReadOnlyList<string>, string) Ata(int descriptor, string what)
    {
        if (AtaIdentify.Read(descriptor, out int errno) is not { } identify)
        {
            return ([], $"An {what} that did not answer IDENTIFY DEVICE (errno {errno}).");
        }

        (List<string> offered, string? obstacle) = AtaIdentify.Offered(identify);
        string found = offered.Count == 0
            ? $"An {what} that supports neither the sanitize nor the security feature set."
            : $"An {what}; its IDENTIFY DEVICE data offers what is listed.";
        return (offered, obstacle is null ? found : $"{found} But {obstacle}.");
    }

    private static (IReadOnlyList<string>, string) Scsi(int descriptor)
    {
        if (ScsiSanitize.Offered(descriptor, out int errno) is { Count: > 0 } offered)
        {
            return (offered, "A SCSI disk; REPORT SUPPORTED OPERATION CODES lists what is offered.");
        }

        // A SATA drive behind a SAS host (libsas) answers ATA IDENTIFY through the SCSI layer.
        (IReadOnlyList<string> ata, string found) = Ata(descriptor, "ATA drive behind a SCSI layer");
        return ata.Count > 0
            ? (ata, found)
            : ([], $"A SCSI disk that reports no SANITIZE action{(errno == 0 ? string.Empty : $" (SG_IO: errno {errno})")}.");
    }
}
