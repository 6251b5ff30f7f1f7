namespace SecureMigration.Benchmarks.Migration;

/// <summary>What one migration of the benchmark guest took.</summary>
/// <param name="Total">From the command that started the migration to the destination's RESUME event.</param>
/// <param name="TransferredBytes">RAM bytes QEMU sent (query-migrate).</param>
/// <param name="Downtime">QEMU's own downtime figure (query-migrate).</param>
/// <param name="StopToResume">From the source's STOP event to the destination's RESUME event (QMP timestamps).</param>
/// <param name="Passes">Pre-copy passes (dirty-bitmap synchronisations).</param>
/// <param name="QemuTotal">QEMU's own total time of the migration on the source (query-migrate).</param>
internal sealed record MigrationSample(TimeSpan Total, long TransferredBytes, TimeSpan Downtime, TimeSpan StopToResume, long Passes,
    TimeSpan QemuTotal)
{
    public double MiBPerSecond => TransferredBytes / Total.TotalSeconds / (1024 * 1024);
}
