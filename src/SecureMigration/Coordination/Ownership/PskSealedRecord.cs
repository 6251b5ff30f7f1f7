namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// An ownership record as a host of a PSK keyring cluster writes it: the record's JSON, the writer's identity, and one
/// HMAC-SHA-256 per host of the writer's keyring (itself included) under the key the writer shares with that host.
/// </summary>
/// <param name="Format">The format name and version; every MAC covers it.</param>
/// <param name="Writer">The identity of the host that wrote the record; only the owner a record names may write it.</param>
/// <param name="Payload">The record's JSON text, exactly as sealed.</param>
/// <param name="Macs">The MAC for each reader, by the reader's identity (base64).</param>
internal sealed record PskSealedRecord(string Format, string Writer, string Payload, Dictionary<string, string> Macs);
