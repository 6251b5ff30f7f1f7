using SecureMigration.Benchmarks.Processes;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>What one migration of the benchmark guest took.</summary>
/// <param name="Total">From the command that started the migration to the destination's RESUME event.</param>
/// <param name="TransferredBytes">RAM bytes QEMU sent (query-migrate).</param>
/// <param name="Downtime">QEMU's own downtime figure (query-migrate).</param>
/// <param name="StopToResume">From the source's STOP event to the destination's RESUME event (QMP timestamps).</param>
/// <param name="Passes">Pre-copy passes (dirty-bitmap synchronisations).</param>
/// <param name="QemuTotal">QEMU's own total time of the migration on the source (query-migrate).</param>
/// <param name="Relay">What the processes carrying the stream besides QEMU used from the start to the destination's RESUME (a
/// short-lived <c>secmig migrate</c> or relay: its whole life).</param>
/// <param name="Qemu">What both QEMUs used from the start to the destination's RESUME.</param>
/// <param name="QemuVcpuSeconds">What of <paramref name="Qemu"/> their vCPU threads used (the source's guest runs on).</param>
internal sealed record MigrationSample(TimeSpan Total, long TransferredBytes, TimeSpan Downtime, TimeSpan StopToResume, long Passes,
    TimeSpan QemuTotal, CpuUsage Relay, CpuUsage Qemu, double QemuVcpuSeconds)
{
    /// <summary>Gets the processor seconds spent carrying the stream: the relays and QEMU's threads but its vCPUs (QEMU's own
    /// TLS, when it encrypts, is there).</summary>
    public double StreamSeconds => Relay.Seconds + Qemu.Seconds - QemuVcpuSeconds;

    /// <summary>Gets the GiB the stream carried.</summary>
    public double GiB => TransferredBytes / (1024.0 * 1024 * 1024);

    public double MiBPerSecond => TransferredBytes / Total.TotalSeconds / (1024 * 1024);
}
