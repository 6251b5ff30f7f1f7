namespace SecureMigration.Coordination.Journal;

/// <summary>Where a host's journal ends: its last record's sequence number and authentication tag.</summary>
/// <param name="Sequence">The number of records (the last record's sequence), 0 for an empty journal.</param>
/// <param name="Mac">The last record's HMAC, as lowercase hex (the header's for an empty journal).</param>
public sealed record JournalHead(long Sequence, string Mac);
