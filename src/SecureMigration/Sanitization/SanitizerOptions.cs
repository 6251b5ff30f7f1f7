using SecureMigration.Identity;

namespace SecureMigration.Sanitization;

/// <summary>How the sanitizer moves data.</summary>
public sealed class SanitizerOptions
{
    /// <summary>Gets or sets the size of one write, a multiple of 4096.</summary>
    /// <value>1 MiB.</value>
    public int BlockSize { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets how many writes (and verification reads) may be in flight at once.</summary>
    /// <value>4.</value>
    public int WritesInFlight { get; set; } = 4;

    /// <summary>Gets or sets how the last pass is checked.</summary>
    /// <value><see cref="VerificationMode.Full"/>.</value>
    public VerificationMode Verification { get; set; } = VerificationMode.Full;

    /// <summary>Gets or sets how many pseudorandom blocks <see cref="VerificationMode.Sample"/> reads besides the first and last.</summary>
    /// <value>64.</value>
    public int SampledBlocks { get; set; } = 64;

    /// <summary>Gets or sets whether to bypass the page cache (<c>O_DIRECT</c>) where the file system allows.</summary>
    /// <value><see langword="true"/>.</value>
    public bool DirectIo { get; set; } = true;

    /// <summary>
    /// Gets or sets whether a wipe keeps a checkpoint (a file's next to it, <c>TARGET.secmig-wipe</c>; a block device's in
    /// <see cref="CheckpointDirectory"/>) and resumes from one it finds, so a wipe that crashed goes on where it stopped.
    /// Needs <see cref="CheckpointKey"/>.
    /// </summary>
    /// <value><see langword="true"/>.</value>
    public bool Resumable { get; set; } = true;

    /// <summary>
    /// Gets or sets the host key that authenticates checkpoints (HMAC) and seals the random pass's key in them. Whoever
    /// can write the target's directory could otherwise plant a checkpoint that skips passes. Without a key no
    /// checkpoint is written or trusted: an interrupted wipe starts again from its first pass.
    /// </summary>
    /// <value><see langword="null"/>.</value>
    public HostKey? CheckpointKey { get; set; }

    /// <summary>
    /// Gets or sets the state directory of block devices' checkpoints (<c>block-MAJOR-MINOR.secmig-wipe</c>, named after the
    /// device number): not beside the device node, since <c>/dev</c> is in memory and forgets a checkpoint at a reboot. Created
    /// owner-only when a checkpoint is first kept; refused when it is or passes through a symbolic link, belongs to another user,
    /// or its group or others may write it. A file's checkpoint stays beside the file.
    /// </summary>
    /// <value><see langword="null"/>: <c>/var/lib/secmig/wipe</c> for root, <c>~/.local/share/secmig/wipe</c> for anyone else.</value>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Gets or sets how many bytes a pass writes between two checkpoints (each costs an fsync).</summary>
    /// <value>256 MiB.</value>
    public long CheckpointInterval { get; set; } = 256L * 1024 * 1024;

    /// <summary>Gets or sets whether to punch holes over the extents once the last pass verified, releasing the blocks (and discarding them
    /// where the disk and mount allow).</summary>
    /// <value><see langword="false"/>.</value>
    public bool Discard { get; set; }

    /// <summary>
    /// Gets or sets whether a block device's discard after the verified last pass is a secure one (<c>BLKSECDISCARD</c>: the device
    /// erases the blocks and every copy it keeps, where it supports that) rather than a plain <c>BLKDISCARD</c>. Implies
    /// <see cref="Discard"/>; block devices only.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool SecureDiscard { get; set; }

    /// <summary>
    /// Gets or sets whether a pass of zeros on a block device is handed to the device (<c>BLKZEROOUT</c>). The report says which
    /// passes were, and the verification reads back what the device then returns, past the page cache.
    /// </summary>
    /// <value><see cref="Sanitization.ZeroOffload.Auto"/>.</value>
    public ZeroOffload ZeroOffload { get; set; } = ZeroOffload.Auto;

    /// <summary>
    /// Gets or sets whether to overwrite a file that another process holds locked (a hypervisor running a VM from it).
    /// Off by default: overwriting a running VM's image destroys it.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool Force { get; set; }

    /// <summary>
    /// Gets or sets whether a block device may be overwritten. Off by default: a device path is easy to mistype or to
    /// plant, and wiping one destroys everything on it. Even when on, a device that is mounted (itself, a partition of
    /// it or a device stacked on it) or held exclusively by another user is refused.
    /// </summary>
    /// <value><see langword="false"/>.</value>
    public bool AllowBlockDevices { get; set; }

    /// <summary>
    /// Gets or sets how much of the start of a target a whole-target wipe overwrites, as OpenStack's <c>volume_clear_size</c>
    /// does for volumes whose start is what holds readable data (partition tables, file-system metadata): the first this many
    /// bytes, or the whole target when it is smaller. Extents given to a wipe are taken as they are.
    /// </summary>
    /// <value><see langword="null"/>: the whole target.</value>
    public long? ClearSize { get; set; }

    /// <summary>Gets or sets the clock of the report's start and end.</summary>
    /// <value><see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws unless every option is usable; the message names the option, its value and what is allowed.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (BlockSize < AlignedMemoryPool.Alignment || BlockSize > 64 * 1024 * 1024 || BlockSize % AlignedMemoryPool.Alignment != 0)
        {
            throw new ArgumentException($"SanitizerOptions.BlockSize is {BlockSize}; it must be a multiple of " +
                $"{AlignedMemoryPool.Alignment} from 4 KiB to 64 MiB.");
        }

        if (WritesInFlight is < 1 or > 64)
        {
            throw new ArgumentException($"SanitizerOptions.WritesInFlight is {WritesInFlight}; it must be 1 to 64.");
        }

        if (SampledBlocks is < 0 or > 1_000_000)
        {
            throw new ArgumentException($"SanitizerOptions.SampledBlocks is {SampledBlocks}; it must be 0 to 1,000,000.");
        }

        if (CheckpointInterval < BlockSize)
        {
            throw new ArgumentException($"SanitizerOptions.CheckpointInterval is {CheckpointInterval}; it must be at least one block " +
                $"({BlockSize} bytes).");
        }

        if (ClearSize is <= 0)
        {
            throw new ArgumentException($"SanitizerOptions.ClearSize is {ClearSize}; it must be above zero (or null for the whole " +
                "target).");
        }

        if (CheckpointDirectory is not null && string.IsNullOrWhiteSpace(CheckpointDirectory))
        {
            throw new ArgumentException("SanitizerOptions.CheckpointDirectory is empty; give a directory (or null for the default).");
        }

        if (!Enum.IsDefined(ZeroOffload))
        {
            throw new ArgumentException($"SanitizerOptions.ZeroOffload is {ZeroOffload}; it must be Auto, Never or Require.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    /// <summary>A copy that later changes to these options do not reach.</summary>
    /// <returns>The copy.</returns>
    internal SanitizerOptions Snapshot() => new()
    {
        BlockSize = BlockSize, WritesInFlight = WritesInFlight, Verification = Verification, SampledBlocks = SampledBlocks,
        DirectIo = DirectIo, Resumable = Resumable, CheckpointKey = CheckpointKey,
        CheckpointDirectory = CheckpointDirectory, CheckpointInterval = CheckpointInterval,
        Discard = Discard, SecureDiscard = SecureDiscard, ZeroOffload = ZeroOffload, Force = Force,
        AllowBlockDevices = AllowBlockDevices, ClearSize = ClearSize, TimeProvider = TimeProvider,
    };
}
