using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Whether a block device is in use: mounted itself, through one of its partitions, or through a device stacked on it or on a
/// partition (device-mapper, RAID: <c>/sys/class/block/NAME/holders</c>), per <c>/proc/self/mountinfo</c>; or, mounted or not,
/// with a device stacked on it or on a partition (an LVM volume group, a RAID set, an encrypted mapping), or a loop device
/// over it or a partition (which claims nothing: its O_EXCL open and its holders say nothing of it). Overwriting any of them
/// destroys a live file system or volume. Users that neither claim the device nor show in sysfs (an nbd or nvmet export, a
/// program with it open) are not seen.
/// </summary>
internal static class BlockDeviceUsage
{
    private const int MaxDepth = 8;
    private const int MaxHoldersNamed = 8;

    /// <summary>Says which of the device, its partitions and its holders is mounted where, or what is stacked on it, or
    /// <see langword="null"/> when it is free.</summary>
    /// <param name="descriptor">The device, open.</param>
    public static string? InUse(int descriptor)
    {
        const string MountInfo = "/proc/self/mountinfo";
        return Posix.DeviceNumberOf(descriptor) is { } number
            ? InUse($"/sys/dev/block/{number}", File.Exists(MountInfo) ? File.ReadLines(MountInfo) : [], LoopBackings("/sys/block"))
            : null;
    }

    /// <summary>Says how the device whose sysfs directory is <paramref name="deviceDirectory"/> is used, given the mount table and
    /// each loop device's backing file.</summary>
    internal static string? InUse(string deviceDirectory, IEnumerable<string> mountInfo,
        IEnumerable<(string Loop, string Backing)>? loops = null)
    {
        var related = new Dictionary<string, string>(StringComparer.Ordinal);
        var holders = new List<string>();
        Collect(deviceDirectory, "the device itself", related, holders, new HashSet<string>(StringComparer.Ordinal), 0);
        foreach (string line in mountInfo)
        {
            // ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 2 >= fields.Length)
            {
                continue;
            }

            string mountPoint = MountTableField.Unescape(fields[4]);
            if (related.TryGetValue(fields[2], out string? what) || related.TryGetValue(MountTableField.Unescape(fields[separator + 2]), out what))
            {
                return $"{what} is mounted at {Text.UntrustedText.Bound(mountPoint, 256)}; unmount it first";
            }
        }

        foreach ((string loop, string backing) in loops ?? [])
        {
            if (related.TryGetValue(backing, out string? what))
            {
                return $"/dev/{Text.UntrustedText.Bound(loop, 64)} is a loop device over {what}; detach it first (losetup -d)";
            }
        }

        return holders.Count == 0
            ? null
            : $"{string.Join(", ", holders.Take(MaxHoldersNamed))}" +
                $"{(holders.Count > MaxHoldersNamed ? $" and {holders.Count - MaxHoldersNamed} more" : string.Empty)}: a volume " +
                "(device-mapper, LVM, RAID, an encrypted mapping) is built on it; remove it first (dmsetup remove, vgchange -an, " +
                "mdadm --stop)";
    }

    /// <summary>Each loop device's backing file, as the kernel names it (<c>/sys/block/loopN/loop/backing_file</c>).</summary>
    private static IEnumerable<(string Loop, string Backing)> LoopBackings(string sysBlock)
    {
        if (!Directory.Exists(sysBlock))
        {
            yield break;
        }

        foreach (string loop in Directory.EnumerateFileSystemEntries(sysBlock, "loop*"))
        {
            string backing = Path.Combine(loop, "loop", "backing_file");
            string? text = null;
            try
            {
                text = File.Exists(backing) ? File.ReadAllText(backing).Trim() : null;
            }
            catch (IOException)
            {
                // Detached meanwhile.
            }

            if (text is not null)
            {
                yield return (Path.GetFileName(loop), text);
            }
        }
    }

    /// <summary>Records a device (by number and by /dev path), then its partitions and holders, recursively, each device once.</summary>
    private static void Collect(string sysDirectory, string role, Dictionary<string, string> related, List<string> holders,
        HashSet<string> visited, int depth)
    {
        string deviceFile = Path.Combine(sysDirectory, "dev");
        if (depth > MaxDepth || !File.Exists(deviceFile))
        {
            return;
        }

        string number = File.ReadAllText(deviceFile).Trim();
        if (!visited.Add(number))
        {
            return;
        }

        string name = new DirectoryInfo(sysDirectory).ResolveLinkTarget(returnFinalTarget: true)?.Name ?? Path.GetFileName(sysDirectory);
        string described = $"/dev/{name} ({role})";
        related.TryAdd(number, described);
        related.TryAdd("/dev/" + name, described);
        foreach (string child in Directory.EnumerateDirectories(sysDirectory))
        {
            if (File.Exists(Path.Combine(child, "partition")))
            {
                Collect(child, $"a partition of /dev/{name}", related, holders, visited, depth + 1);
            }
        }

        string holdersDirectory = Path.Combine(sysDirectory, "holders");
        if (Directory.Exists(holdersDirectory))
        {
            foreach (string holder in Directory.EnumerateFileSystemEntries(holdersDirectory))
            {
                if (depth == 0 || role.StartsWith("a partition", StringComparison.Ordinal))
                {
                    holders.Add($"/dev/{Path.GetFileName(holder)} is stacked on /dev/{name}");
                }

                Collect(holder, $"stacked on /dev/{name}", related, holders, visited, depth + 1);
            }
        }
    }
}
