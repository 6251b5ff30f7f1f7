namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// A migration's fixed cost without a hypervisor's (issue 19): a 64 KiB stream, so handshake, ticket, checkpoints,
/// audit entries and the registry's commit are what is measured, against a bare secure channel carrying the same bytes.
/// </summary>
public class MigrationFixedCostBenchmarks : CoordinatedBenchmarks
{
    /// <inheritdoc />
    protected override long Bytes => 64 * 1024;
}
