using SecureMigration.Storage;
using SecureMigration.Text;

namespace SecureMigration.Sanitization;

/// <summary>
/// Reads <see cref="BlockDeviceProperties"/> of an open block device: sizes from its descriptor, limits and identity from
/// <c>/sys/dev/block/MAJOR:MINOR</c> (a partition's limits are its disk's). What the files say is bounded: a model string
/// comes from the hardware, a backing file's name from whoever attached it.
/// </summary>
internal static class BlockDeviceProbe
{
    private const int MaxReadBytes = 4096;
    private const int MaxBuiltOn = 64;

    /// <summary>Describes the device open on <paramref name="descriptor"/>.</summary>
    /// <param name="descriptor">The device, open.</param>
    /// <param name="sysRoot">Where sysfs is mounted (tests give a tree of their own).</param>
    public static BlockDeviceProperties Read(int descriptor, string sysRoot = "/sys")
    {
        (int logical, int physical) = Posix.BlockSizes(descriptor);
        string? number = Posix.DeviceNumberOf(descriptor);
        return FromSysfs(number is null ? null : Path.Combine(sysRoot, "dev", "block", number)) with
        {
            Size = Posix.BlockDeviceSize(descriptor) ?? 0,
            LogicalBlockSize = logical,
            PhysicalBlockSize = physical,
            Rotational = Posix.IsRotational(descriptor),
        };
    }

    /// <summary>What sysfs says of a device (its directory under <c>/sys/dev/block</c>); sizes are the caller's to fill.</summary>
    internal static BlockDeviceProperties FromSysfs(string? deviceDirectory)
    {
        string? real = deviceDirectory is null ? null : RealPath(deviceDirectory);
        if (real is null)
        {
            return new BlockDeviceProperties
            {
                Name = "unknown", Transport = "other", Size = 0, LogicalBlockSize = 0, PhysicalBlockSize = 0,
            };
        }

        string name = Path.GetFileName(real);
        // A partition's queue limits, model and transport are its disk's.
        bool partition = File.Exists(Path.Combine(real, "partition"));
        string disk = partition ? Path.GetDirectoryName(real)! : real;
        string queue = Path.Combine(disk, "queue");
        string? vendor = Printable(ReadText(Path.Combine(disk, "device", "vendor")));
        string? model = Printable(ReadText(Path.Combine(disk, "device", "model")));
        string slaves = Path.Combine(disk, "slaves");
        return new BlockDeviceProperties
        {
            Name = UntrustedText.Bound(name, 64),
            Transport = TransportOf(Path.GetFileName(disk), disk),
            Model = (vendor, model) switch
            {
                (null, null) => null,
                (null, _) => model,
                (_, null) => vendor,
                _ => $"{vendor} {model}",
            },
            Size = 0,
            LogicalBlockSize = 0,
            PhysicalBlockSize = 0,
            ReadOnly = ReadNumber(Path.Combine(real, "ro")) == 1,
            MaxWriteBytes = ReadNumber(Path.Combine(queue, "max_sectors_kb")) * 1024,
            WriteZeroesMaxBytes = ReadNumber(Path.Combine(queue, "write_zeroes_max_bytes")),
            DiscardMaxBytes = ReadNumber(Path.Combine(queue, "discard_max_bytes")),
            DiscardGranularity = ReadNumber(Path.Combine(queue, "discard_granularity")),
            // Quoted in caveats: a quote in the name (whoever attached the loop device chose it) must not end the quotation.
            BackingFile = ReadText(Path.Combine(disk, "loop", "backing_file")) is { } backing
                ? UntrustedText.Bound(backing).Replace("'", "\\'", StringComparison.Ordinal)
                : null,
            PartitionOf = partition ? UntrustedText.Bound(Path.GetFileName(disk), 64) : null,
            BuiltOn = Directory.Exists(slaves)
                ? [.. Directory.EnumerateFileSystemEntries(slaves).Take(MaxBuiltOn)
                    .Select(s => UntrustedText.Bound(Path.GetFileName(s), 64))]
                : [],
        };
    }

    /// <summary>What carries a device, from its kernel name and where its directory sits in the device tree.</summary>
    internal static string TransportOf(string diskName, string realDirectory) => diskName switch
    {
        _ when realDirectory.Contains("/usb", StringComparison.Ordinal) => "usb",
        _ when realDirectory.Contains(".ufshc/", StringComparison.Ordinal) => "ufs",
        _ when diskName.StartsWith("loop", StringComparison.Ordinal) => "loop",
        _ when diskName.StartsWith("dm-", StringComparison.Ordinal) => "device-mapper",
        _ when diskName.StartsWith("md", StringComparison.Ordinal) => "md",
        _ when diskName.StartsWith("nvme", StringComparison.Ordinal) => "nvme",
        _ when diskName.StartsWith("mmcblk", StringComparison.Ordinal) => "mmc",
        _ when diskName.StartsWith("vd", StringComparison.Ordinal) ||
            realDirectory.Contains("/virtio", StringComparison.Ordinal) => "virtio",
        _ when diskName.StartsWith("sd", StringComparison.Ordinal) && realDirectory.Contains("/ata", StringComparison.Ordinal) => "ata",
        _ when diskName.StartsWith("sd", StringComparison.Ordinal) => "scsi",
        _ => "other",
    };

    private static string? RealPath(string directory)
    {
        try
        {
            var info = new DirectoryInfo(directory);
            return info.Exists ? (info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName).TrimEnd('/') : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static long ReadNumber(string file) =>
        long.TryParse(ReadText(file), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture,
            out long value) ? value : 0;

    /// <summary>A sysfs file's first line, at most 4 KiB of it, or <see langword="null"/> when it cannot be read.</summary>
    private static string? ReadText(string file)
    {
        try
        {
            using FileStream stream = File.OpenRead(file);
            var buffer = new byte[MaxReadBytes];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            string text = System.Text.Encoding.UTF8.GetString(buffer, 0, read);
            int end = text.IndexOf('\n', StringComparison.Ordinal);
            return (end < 0 ? text : text[..end]).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Printable ASCII only, at most 40 characters: a hardware string, trimmed.</summary>
    private static string? Printable(string? text)
    {
        if (text is null)
        {
            return null;
        }

        string kept = new([.. text.Where(c => c is >= ' ' and <= '~').Take(40)]);
        kept = kept.Trim();
        return kept.Length == 0 ? null : kept;
    }
}
