namespace SecureMigration.Sanitization;

/// <summary>
/// What an overwrite through the file system cannot promise on the storage under a path, said plainly for the
/// report instead of claiming a clean wipe.
/// </summary>
internal static class StorageCaveats
{
    private static readonly string[] CopyOnWrite = ["btrfs", "zfs", "bcachefs", "xfs"];

    /// <param name="path">The file or block device.</param>
    /// <param name="directIo">Whether the wipe bypassed the page cache.</param>
    /// <param name="directIoRequested">Whether the options asked it to (<see cref="SanitizerOptions.DirectIo"/>).</param>
    /// <param name="size">The target's size.</param>
    /// <param name="isBlockDevice">Whether the target is a block device.</param>
    public static List<string> For(string path, bool directIo, bool directIoRequested, long size, bool isBlockDevice)
    {
        string pageCache = directIoRequested
            ? "The page cache could not be bypassed (no O_DIRECT here): verification read what the kernel cached after fsync, not the " +
                "medium itself."
            : "The page cache was not bypassed (SanitizerOptions.DirectIo is off): verification read what the kernel cached after fsync, " +
                "not the medium itself.";
        var caveats = new List<string>
        {
            isBlockDevice
                ? "Overwrite of what the block device exposes: sectors the drive remapped and SSD over-provisioning are not reached; use " +
                    "the drive's own sanitize command for a purge."
                : "Logical overwrite through the file system: blocks the drive remapped (bad-block or SSD wear levelling) are not " +
                    "reached; use the drive's own sanitize command for a purge.",
        };
        if (isBlockDevice)
        {
            if (!directIo)
            {
                caveats.Add(pageCache);
            }

            return caveats;
        }

        string? fileSystem = FileSystemOf(path);
        if (fileSystem is not null && CopyOnWrite.Contains(fileSystem))
        {
            caveats.Add($"The file lives on {fileSystem}, which can keep copies of old blocks (copy-on-write, snapshots or reflinks): " +
                $"the overwrite may write new blocks and leave the old ones readable.");
        }

        if (fileSystem == "tmpfs")
        {
            caveats.Add("The file lives on tmpfs (memory, possibly swapped): there is no medium behind it to verify against.");
        }

        if (Storage.Posix.Stat(path) is { } stat)
        {
            if (stat.AllocatedBytes < size)
            {
                caveats.Add($"The file is sparse ({stat.AllocatedBytes} of {size} bytes allocated): its holes had no blocks to " +
                    $"overwrite, and blocks it freed earlier may still hold old data elsewhere on the disk.");
            }

            if (stat.Links > 1)
            {
                caveats.Add($"The file has {stat.Links} hard links: the data was overwritten for all of them, but deleting this name " +
                    $"leaves the others.");
            }
        }

        if (!directIo)
        {
            caveats.Add(pageCache);
        }

        return caveats;
    }

    /// <summary>The type of the file system that holds <paramref name="path"/>, from <c>/proc/self/mounts</c> (longest mount point that
    /// contains it).</summary>
    private static string? FileSystemOf(string path)
    {
        const string Mounts = "/proc/self/mounts";
        if (!File.Exists(Mounts))
        {
            return null;
        }

        string full = Path.GetFullPath(path);
        string? best = null;
        int bestLength = -1;
        foreach (string line in File.ReadLines(Mounts))
        {
            string[] fields = line.Split(' ');
            if (fields.Length < 3)
            {
                continue;
            }

            string mountPoint = Storage.MountTableField.Unescape(fields[1]);
            bool contains = mountPoint == "/" || full == mountPoint || full.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            if (contains && mountPoint.Length > bestLength)
            {
                best = fields[2];
                bestLength = mountPoint.Length;
            }
        }

        return best;
    }
}
