namespace SecureMigration.Sanitization;

/// <summary>
/// What the hardware under a block device offers for a NIST SP 800-88 <em>Purge</em> (NVMe sanitize or format with
/// secure or cryptographic erase, ATA sanitize or security erase, SCSI SANITIZE), read from the device's own identify
/// data, so an operator knows what a purge would take. Nothing here is ever run: a purge erases the whole drive.
/// </summary>
public sealed record PurgeCapabilities
{
    /// <summary>Gets each purge the drive offers, with the command that would run it.</summary>
    public required IReadOnlyList<string> Offered { get; init; }

    /// <summary>Gets what was found, in words: why nothing is offered, what stands in the way, and that no purge was run.</summary>
    public required string Assessment { get; init; }
}
