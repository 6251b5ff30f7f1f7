using System.Diagnostics;

namespace SecureMigration.Cli.Terminal;

/// <summary>
/// Shows bytes moved, throughput and ETA: a redrawn bar on a terminal, a plain line every quarter otherwise.
/// </summary>
internal sealed class ProgressBar(ConsoleStyle style, string label, long total)
{
    private const int Width = 30;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDrawTicks;
    private int _lastQuarter = -1;

    public void Report(long done, bool force = false)
    {
        if (style.IsTerminal)
        {
            long now = _clock.ElapsedTicks;
            if (!force && now - _lastDrawTicks < Stopwatch.Frequency / 10)
            {
                return;
            }

            _lastDrawTicks = now;
            int filled = total == 0 ? Width : (int)(Width * done / total);
            style.Output.Write($"\r  {label} [{new string('#', filled)}{new string('-', Width - filled)}] {Describe(done)}   ");
            return;
        }

        int quarter = total == 0 ? 4 : (int)(4 * done / total);
        if (quarter != _lastQuarter)
        {
            _lastQuarter = quarter;
            style.Line($"  {label}: {Describe(done)}");
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

    private string Describe(long done)
    {
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-6);
        double rate = done / seconds;
        string eta = rate > 0 && done < total ? $", ETA {TimeSpan.FromSeconds((total - done) / rate):mm\\:ss}" : string.Empty;
        return $"{100.0 * done / Math.Max(total, 1):0}% {Units.Bytes(done)} of {Units.Bytes(total)}, {Units.Bytes((long)rate)}/s{eta}";
    }
}
