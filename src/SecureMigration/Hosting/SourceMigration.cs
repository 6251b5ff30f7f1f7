using SecureMigration.Coordination;

namespace SecureMigration.Hosting;

/// <summary>The end of a source migration the agent ran, with its retries.</summary>
/// <param name="Result">The last attempt's result.</param>
/// <param name="Retried">How many times a rolled-back attempt was retried.</param>
public sealed record SourceMigration(MigrationResult Result, int Retried);
