namespace SecureMigration.Benchmarks.Coordination;

/// <summary>What the coordinator adds to a 256 MiB transfer (issue 4).</summary>
public class CoordinatedTransferBenchmarks : CoordinatedBenchmarks
{
    /// <inheritdoc />
    protected override long Bytes => 256L * 1024 * 1024;
}
