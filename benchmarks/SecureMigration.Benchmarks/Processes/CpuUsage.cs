namespace SecureMigration.Benchmarks.Processes;

/// <summary>What processes used, from the kernel's own accounting.</summary>
/// <param name="Seconds">User and system processor time.</param>
/// <param name="Voluntary">Voluntary context switches (each one a sleep, so a wake-up later).</param>
/// <param name="Involuntary">Involuntary context switches (preemptions).</param>
internal readonly record struct CpuUsage(double Seconds, long Voluntary, long Involuntary)
{
    public static CpuUsage Zero => default;

    public static CpuUsage operator +(CpuUsage left, CpuUsage right) =>
        new(left.Seconds + right.Seconds, left.Voluntary + right.Voluntary, left.Involuntary + right.Involuntary);
}
