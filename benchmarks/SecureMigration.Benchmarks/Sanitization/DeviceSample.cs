namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>One measured case of one round of the device bench.</summary>
/// <param name="Round">The round, from 1.</param>
/// <param name="Position">Where the case ran in its round, from 1 (the order rotates each round).</param>
/// <param name="Case">The case.</param>
/// <param name="Kind"><c>write</c>, <c>read</c> or <c>cpu</c> (in memory, one core).</param>
/// <param name="Bytes">Bytes written or read (the device's size times the passes), or generated.</param>
/// <param name="Seconds">Wall seconds of the whole case (process start to exit, or call to return).</param>
/// <param name="CpuSeconds">User and system seconds of the process doing the work.</param>
/// <param name="Cache">The page-cache check made just before the case.</param>
/// <param name="Note">What the tool itself reported (fio's bandwidth, the sanitizer's pass paths).</param>
internal sealed record DeviceSample(int Round, int Position, string Case, string Kind, long Bytes, double Seconds, double CpuSeconds,
    CacheCheck Cache, string Note)
{
    /// <summary>Gets the rate in GiB/s.</summary>
    public double GiBps => Bytes / Seconds / (1L << 30);
}
