namespace SecureMigration.Cli.Terminal;

/// <summary>
/// Shows bytes moved, throughput and ETA: a redrawn bar on a terminal, a plain line every quarter otherwise. The rate
/// and ETA appear once half a second has passed: a first sample over microseconds would read hundreds of GiB/s.
/// </summary>
internal sealed class ProgressBar(ConsoleStyle style, string label, long total, TimeProvider? timeProvider = null)
{
    private const int Width = 30;
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(0.5);
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromSeconds(0.1);
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly long _started = (timeProvider ?? TimeProvider.System).GetTimestamp();
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private int _lastQuarter = -1;

    public void Report(long done, bool force = false)
    {
        TimeSpan elapsed = _time.GetElapsedTime(_started);
        if (style.IsTerminal)
        {
            if (!force && elapsed - _lastDraw < RedrawInterval)
            {
                return;
            }

            _lastDraw = elapsed;
            int filled = total == 0 ? Width : (int)(Width * done / total);
            style.Output.Write($"\r  {label} [{new string('#', filled)}{new string('-', Width - filled)}] {Describe(done, elapsed)}   ");
            return;
        }

        int quarter = total == 0 ? 4 : (int)(4 * done / total);
        if (quarter != _lastQuarter)
        {
            _lastQuarter = quarter;
            style.Line($"  {label}: {Describe(done, elapsed)}");
        }
    }

    public void Finish(long done)
    {
        Report(done, force: true);
        if (style.IsTerminal)
        {
            style.Line();
        }
    }

    private string Describe(long done, TimeSpan elapsed)
    {
        string progress = $"{100.0 * done / Math.Max(total, 1):0}% {Units.Bytes(done)} of {Units.Bytes(total)}";
        if (elapsed < RateWindow)
        {
            return progress;
        }

        double rate = done / elapsed.TotalSeconds;
        string eta = rate > 0 && done < total ? $", ETA {TimeSpan.FromSeconds((total - done) / rate):mm\\:ss}" : string.Empty;
        return $"{progress}, {Units.Bytes((long)rate)}/s{eta}";
    }
}
