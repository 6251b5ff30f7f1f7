namespace SecureMigration.Coordination.Protocol;

/// <summary>What the destination received of the migration stream, and what the source says it sent.</summary>
/// <param name="Received">The bytes received.</param>
/// <param name="AnnouncedLength">The length the source announced.</param>
/// <param name="AnnouncedDigest">The XXH128 digest the source announced.</param>
internal sealed record ReceivedStream(long Received, long AnnouncedLength, byte[] AnnouncedDigest);
