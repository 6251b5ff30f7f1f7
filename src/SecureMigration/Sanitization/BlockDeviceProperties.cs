namespace SecureMigration.Sanitization;

/// <summary>
/// What a block device says of itself, read from its open descriptor (ioctls) and <c>/sys/dev/block</c>: its size and block
/// sizes, whether it spins, how much one write, one WRITE ZEROES and one discard may cover, and what it is (transport, model,
/// a loop device's backing file, the devices a volume is built on). A limit of zero means the device does not offer it.
/// </summary>
public sealed record BlockDeviceProperties
{
    /// <summary>Gets the kernel's name of the device (<c>loop0</c>, <c>nvme0n1p2</c>, <c>dm-3</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Gets what carries the device: <c>nvme</c>, <c>ata</c>, <c>scsi</c>, <c>virtio</c>, <c>mmc</c>, <c>usb</c>,
    /// <c>ufs</c>, <c>loop</c>, <c>device-mapper</c>, <c>md</c> or <c>other</c>.</summary>
    public required string Transport { get; init; }

    /// <summary>Gets the vendor and model the device reports (printable ASCII, at most 80 characters), if any.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the device's size in bytes.</summary>
    public required long Size { get; init; }

    /// <summary>Gets the smallest unit the device addresses (<c>BLKSSZGET</c>), in bytes.</summary>
    public required int LogicalBlockSize { get; init; }

    /// <summary>Gets the unit the device writes without read-modify-write (<c>BLKPBSZGET</c>), in bytes.</summary>
    public required int PhysicalBlockSize { get; init; }

    /// <summary>Gets whether the device says it spins (<c>BLKROTATIONAL</c>), or <see langword="null"/> when it cannot say.</summary>
    public bool? Rotational { get; init; }

    /// <summary>Gets whether the device is read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Gets the most one request may write (<c>max_sectors_kb</c>), in bytes: the device's write limit.</summary>
    public long MaxWriteBytes { get; init; }

    /// <summary>Gets the most one WRITE ZEROES (or WRITE SAME) may cover, in bytes; zero when the device offers none and
    /// <c>BLKZEROOUT</c> would be the kernel writing zero pages.</summary>
    public long WriteZeroesMaxBytes { get; init; }

    /// <summary>Gets the most one discard may cover, in bytes; zero when the device does not discard.</summary>
    public long DiscardMaxBytes { get; init; }

    /// <summary>Gets the device's discard granularity, in bytes.</summary>
    public long DiscardGranularity { get; init; }

    /// <summary>Gets the file a loop device reads and writes, if it is one.</summary>
    /// <remarks>Bounded and escaped (control characters, and <c>'</c> as <c>\'</c>): whoever attached the device chose the name.</remarks>
    public string? BackingFile { get; init; }

    /// <summary>Gets the disk this device is a partition of, or <see langword="null"/> for a whole device.</summary>
    public string? PartitionOf { get; init; }

    /// <summary>Gets the devices a device-mapper or RAID volume is built on (their kernel names).</summary>
    public IReadOnlyList<string> BuiltOn { get; init; } = [];

    /// <summary>Gets whether the device offloads zeroing (<see cref="WriteZeroesMaxBytes"/> above zero).</summary>
    public bool OffloadsZeroes => WriteZeroesMaxBytes > 0;
}
