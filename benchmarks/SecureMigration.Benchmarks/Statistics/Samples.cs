namespace SecureMigration.Benchmarks.Statistics;

/// <summary>Order statistics of a benchmark's samples.</summary>
internal static class Samples
{
    /// <summary>The median (the mean of the middle two for an even count); NaN for no samples.</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The sample at <paramref name="rank"/> (0 to 1) of the sorted samples, nearest-rank.</summary>
    public static double Percentile(IEnumerable<double> values, double rank)
    {
        double[] sorted = [.. values.Order()];
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(rank * sorted.Length))];
    }
}
