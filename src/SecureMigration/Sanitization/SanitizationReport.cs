namespace SecureMigration.Sanitization;

/// <summary>
/// What a wipe did, with the facts NIST SP 800-88 Appendix G asks a certificate of sanitization to carry: the target,
/// the method and passes, the verification and its coverage, the tool, start and end, the result, and what the
/// overwrite could not guarantee on this storage.
/// </summary>
public sealed record SanitizationReport
{
    /// <summary>Gets the target (a file path, <c>memory</c>, …).</summary>
    public required string Target { get; init; }

    /// <summary>Gets the target's size in bytes.</summary>
    public required long TargetSize { get; init; }

    /// <summary>Gets the device and inode of the file that was overwritten (read on the open descriptor), or <see langword="null"/> for
    /// memory or where the OS cannot say.</summary>
    public Storage.FileIdentity? TargetIdentity { get; init; }

    /// <summary>Gets the ranges that were overwritten (the whole target, or the extents asked for).</summary>
    public required IReadOnlyList<Extent> Extents { get; init; }

    /// <summary>Gets the method's name.</summary>
    public required string Method { get; init; }

    /// <summary>Gets the passes, in order.</summary>
    public required IReadOnlyList<string> Passes { get; init; }

    /// <summary>Gets how each pass was done, in order: <c>written</c> (by this tool, with O_DIRECT or through the page cache) or
    /// <c>offloaded</c> (the device zeroed it on <c>BLKZEROOUT</c>).</summary>
    public IReadOnlyList<string> PassPaths { get; init; } = [];

    /// <summary>Gets how the last pass was checked.</summary>
    public required VerificationMode Verification { get; init; }

    /// <summary>Gets the bytes read back and compared.</summary>
    public long BytesVerified { get; init; }

    /// <summary>Gets the share of the overwritten bytes that were read back (0 to 1).</summary>
    public double VerifiedCoverage { get; init; }

    /// <summary>Gets the offset of the first byte that did not hold what the last pass wrote, if any.</summary>
    public long? MismatchOffset { get; init; }

    /// <summary>Gets whether every pass completed (a cancelled wipe is incomplete).</summary>
    public required bool Completed { get; init; }

    /// <summary>Gets whether every pass completed, was flushed to disk, and verification (if any) found nothing wrong.</summary>
    public required bool Succeeded { get; init; }

    /// <summary>Gets whether the overwritten extents were discarded (holes punched) after the verified last pass.</summary>
    public bool Discarded { get; init; }

    /// <summary>Gets how the extents were discarded (<c>hole punch</c>, <c>BLKDISCARD</c> or <c>BLKSECDISCARD</c>), or
    /// <see langword="null"/> when they were not.</summary>
    public string? DiscardMethod { get; init; }

    /// <summary>Gets what the block device said of itself, or <see langword="null"/> for a file or memory.</summary>
    public BlockDeviceProperties? Device { get; init; }

    /// <summary>Gets what the drive under a block device offers for a purge (never run), or <see langword="null"/> for a file or
    /// memory.</summary>
    public PurgeCapabilities? Purge { get; init; }

    /// <summary>Gets whether the wipe went on from a checkpoint an earlier, interrupted run left.</summary>
    public bool Resumed { get; init; }

    /// <summary>Gets whether the page cache was bypassed for writes and verification reads.</summary>
    public bool DirectIo { get; init; }

    /// <summary>Gets what this overwrite cannot guarantee on this storage, in words.</summary>
    public IReadOnlyList<string> Caveats { get; init; } = [];

    /// <summary>Gets the tool and its version.</summary>
    public string Tool { get; init; } = "SecureMigration " + typeof(SanitizationReport).Assembly.GetName().Version?.ToString(3);

    /// <summary>Gets when the wipe started.</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary>Gets when it ended.</summary>
    public required DateTimeOffset Finished { get; init; }
}
