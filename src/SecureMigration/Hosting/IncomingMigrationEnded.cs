using SecureMigration.Coordination;

namespace SecureMigration.Hosting;

/// <summary>An incoming migration the agent served has ended: with a <see cref="Result"/>, or with an <see cref="Error"/>.</summary>
/// <param name="VmId">The VM named by the peer's ticket (untrusted text, bounded).</param>
/// <param name="Result">The migration's result, when the coordinator returned one.</param>
/// <param name="Error">What stopped it, when the coordinator threw; the journal keeps its last checkpoint for recovery.</param>
public sealed record IncomingMigrationEnded(string VmId, MigrationResult? Result, Exception? Error);
