using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Whether a block device is in use by a mounted file system: mounted itself, through one of its partitions, or
/// through a device stacked on it or on a partition (device-mapper, RAID: <c>/sys/class/block/NAME/holders</c>),
/// per <c>/proc/self/mountinfo</c>. Overwriting any of them destroys a live file system.
/// </summary>
internal static class BlockDeviceUsage
{
    private const int MaxDepth = 8;

    /// <summary>Says which of the device, its partitions and its holders is mounted where, or <see langword="null"/> when none
    /// is.</summary>
    /// <param name="descriptor">The device, open.</param>
    public static string? MountedUse(int descriptor)
    {
        const string MountInfo = "/proc/self/mountinfo";
        if (Posix.DeviceNumberOf(descriptor) is not { } number || !File.Exists(MountInfo))
        {
            return null;
        }

        var related = new Dictionary<string, string>(StringComparer.Ordinal);
        Collect($"/sys/dev/block/{number}", "the device itself", related, 0);
        foreach (string line in File.ReadLines(MountInfo))
        {
            // ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 2 >= fields.Length)
            {
                continue;
            }

            string mountPoint = fields[4].Replace("\\040", " ", StringComparison.Ordinal);
            if (related.TryGetValue(fields[2], out string? what) || related.TryGetValue(fields[separator + 2], out what))
            {
                return $"{what} is mounted at {mountPoint}";
            }
        }

        return null;
    }

    /// <summary>Records a device (by number and by /dev path), then its partitions and holders, recursively.</summary>
    private static void Collect(string sysDirectory, string role, Dictionary<string, string> related, int depth)
    {
        string deviceFile = Path.Combine(sysDirectory, "dev");
        if (depth > MaxDepth || !File.Exists(deviceFile))
        {
            return;
        }

        string name = new DirectoryInfo(sysDirectory).ResolveLinkTarget(returnFinalTarget: true)?.Name ?? Path.GetFileName(sysDirectory);
        string described = $"/dev/{name} ({role})";
        related.TryAdd(File.ReadAllText(deviceFile).Trim(), described);
        related.TryAdd("/dev/" + name, described);
        foreach (string child in Directory.EnumerateDirectories(sysDirectory))
        {
            if (File.Exists(Path.Combine(child, "partition")))
            {
                Collect(child, $"a partition of /dev/{name}", related, depth + 1);
            }
        }

        string holders = Path.Combine(sysDirectory, "holders");
        if (Directory.Exists(holders))
        {
            foreach (string holder in Directory.EnumerateFileSystemEntries(holders))
            {
                Collect(holder, $"stacked on /dev/{name}", related, depth + 1);
            }
        }
    }
}
