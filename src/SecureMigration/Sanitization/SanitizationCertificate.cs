namespace SecureMigration.Sanitization;

/// <summary>
/// A certificate of sanitization with the fields of NIST SP 800-88 Rev. 1, Appendix G, filled from a
/// <see cref="SanitizationReport"/>: who sanitized what, how, with which tool, how it was verified, when, with what
/// result, and what the overwrite could not guarantee. Signed with <see cref="SanitizationCertificates.Sign"/>.
/// </summary>
public sealed record SanitizationCertificate
{
    /// <summary>Gets the certificate's own id.</summary>
    public required Guid CertificateId { get; init; }

    /// <summary>Gets the host (signer identity) that performed the sanitization.</summary>
    public required string PerformedBy { get; init; }

    /// <summary>Gets the media type: <c>file</c>, <c>block device</c> or <c>memory</c>.</summary>
    public required string MediaType { get; init; }

    /// <summary>Gets the media's identity (the file's full path).</summary>
    public required string MediaIdentity { get; init; }

    /// <summary>
    /// Gets the media's device and inode on the host that sanitized it (<c>MAJOR:MINOR/INODE</c>), or
    /// <see langword="null"/> for memory: with the path and the size, it names the very file that was overwritten.
    /// </summary>
    public string? MediaDeviceAndInode { get; init; }

    /// <summary>Gets what a block device said of itself (transport, model, block sizes, limits), or <see langword="null"/>.</summary>
    public string? MediaDescription { get; init; }

    /// <summary>Gets the media's size in bytes.</summary>
    public required long MediaSize { get; init; }

    /// <summary>Gets the byte ranges sanitized.</summary>
    public required IReadOnlyList<Extent> Extents { get; init; }

    /// <summary>Gets the NIST category: <c>Clear</c> (logical overwrite through the file system).</summary>
    public string SanitizationCategory { get; init; } = "Clear";

    /// <summary>Gets the technique: the method and its passes.</summary>
    public required string SanitizationTechnique { get; init; }

    /// <summary>Gets the tool and its version.</summary>
    public required string Tool { get; init; }

    /// <summary>Gets how the result was verified, with the coverage.</summary>
    public required string VerificationMethod { get; init; }

    /// <summary>Gets the share of the sanitized bytes read back (0 to 1).</summary>
    public required double VerificationCoverage { get; init; }

    /// <summary>Gets when the sanitization started.</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary>Gets when it ended.</summary>
    public required DateTimeOffset Finished { get; init; }

    /// <summary>Gets the result: <c>Sanitized</c>, <c>Verification failed</c> or <c>Incomplete</c>.</summary>
    public required string Result { get; init; }

    /// <summary>Gets the first byte that failed verification, if any.</summary>
    public long? MismatchOffset { get; init; }

    /// <summary>Gets what the overwrite cannot guarantee on this storage.</summary>
    public required IReadOnlyList<string> Caveats { get; init; }

    /// <summary>Gets the purges the drive under a block device offers (none was run), or empty.</summary>
    public IReadOnlyList<string> PurgeOffered { get; init; } = [];

    /// <summary>Gets what was found of a purge for a block device, in words, saying that none was run; or <see langword="null"/>.</summary>
    public string? PurgeAssessment { get; init; }

    /// <summary>Gets what happened to the media afterwards (for example <c>retained</c> or <c>deleted</c>).</summary>
    public string PostSanitizationDestination { get; init; } = "retained";

    /// <summary>Fills a certificate from a report.</summary>
    /// <param name="report">The report.</param>
    /// <param name="performedBy">The host that performed it.</param>
    /// <returns>The certificate, unsigned.</returns>
    public static SanitizationCertificate From(SanitizationReport report, string performedBy)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(performedBy);
        return new SanitizationCertificate
        {
            CertificateId = Guid.NewGuid(),
            PerformedBy = performedBy,
            MediaType = report.Target == "memory" ? "memory" : report.Device is null ? "file" : "block device",
            MediaDescription = report.Device is { } device ? Describe(device) : null,
            MediaIdentity = report.Target,
            MediaDeviceAndInode = report.TargetIdentity?.ToString(),
            MediaSize = report.TargetSize,
            Extents = report.Extents,
            SanitizationTechnique = $"{report.Method}: {Passes(report)}; every pass flushed to disk" +
                (report.DiscardMethod is { } discard ? $"; then {discard}" : string.Empty),
            Tool = report.Tool,
            VerificationMethod = report.Verification switch
            {
                VerificationMode.Full => "full read-back of the last pass",
                VerificationMode.Sample => "sampled read-back of the last pass (first, last and pseudorandom blocks)",
                _ => "none",
            } + (report.DirectIo ? ", bypassing the page cache" : ", through the page cache"),
            VerificationCoverage = report.VerifiedCoverage,
            Started = report.Started,
            Finished = report.Finished,
            Result = report.Succeeded ? "Sanitized" : report.Completed ? "Verification failed" : "Incomplete",
            MismatchOffset = report.MismatchOffset,
            Caveats = report.Caveats,
            PurgeOffered = report.Purge?.Offered ?? [],
            PurgeAssessment = report.Purge?.Assessment,
        };
    }

    /// <summary>Each pass with how it was done (written with O_DIRECT, through the page cache, or offloaded to the device).</summary>
    private static string Passes(SanitizationReport report) => report.PassPaths.Count == report.Passes.Count
        ? string.Join(", ", report.Passes.Zip(report.PassPaths, (pass, path) => $"{pass} ({path})"))
        : string.Join(", ", report.Passes);

    private static string Describe(BlockDeviceProperties device) =>
        $"{device.Name}: {device.Transport}{(device.Model is { } model ? $" {model}" : string.Empty)}, {device.Size} bytes, logical " +
        $"blocks {device.LogicalBlockSize}, physical {device.PhysicalBlockSize}" +
        (device.Rotational is { } rotational ? rotational ? ", rotational" : ", non-rotational" : string.Empty) +
        $", write zeroes up to {device.WriteZeroesMaxBytes} bytes, discard up to {device.DiscardMaxBytes} bytes" +
        (device.BackingFile is { } backing ? $", backed by '{backing}'" : string.Empty) +
        (device.PartitionOf is { } disk ? $", a partition of {disk}" : string.Empty);
}
