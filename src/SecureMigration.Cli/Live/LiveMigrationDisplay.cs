using System.Diagnostics;
using System.Globalization;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;
using SecureMigration.Qemu;

namespace SecureMigration.Cli.Live;

/// <summary>
/// Shows a live migration on one host: each phase as it is journaled, and while the stream flows its bytes,
/// throughput and (on the source) QEMU's pass and what is left. On a terminal the progress line is rewritten in place;
/// otherwise a plain line per second ('progress VM BYTES MIB_PER_S') for scripts and logs.
/// </summary>
internal sealed class LiveMigrationDisplay(ConsoleStyle style) : IProgress<MigrationProgress>, IProgress<QemuMigrationInfo>
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private MigrationPhase? _phase;
    private TimeSpan _transferStart;
    private TimeSpan _lastShown = -Interval;
    private QemuMigrationInfo? _qemu;
    private bool _lineOpen;

    public void Report(MigrationProgress value)
    {
        lock (_gate)
        {
            if (value.Phase != _phase)
            {
                EndLine();
                _phase = value.Phase;
                style.Line(style.IsTerminal ? style.Dim($"   {value.VmId}: {value.Phase}") : $"phase {value.VmId} {value.Phase}");
                if (value.Phase == MigrationPhase.Transferring)
                {
                    // The first sample comes a full interval in: a rate over the first milliseconds says hundreds of GiB/s.
                    _transferStart = _clock.Elapsed;
                    _lastShown = _transferStart;
                }
            }
            else if (value.Phase == MigrationPhase.Transferring && _clock.Elapsed - _lastShown >= Interval)
            {
                _lastShown = _clock.Elapsed;
                ShowBytes(value.VmId, value.Bytes);
            }
        }
    }

    public void Report(QemuMigrationInfo value)
    {
        lock (_gate)
        {
            _qemu = value;
        }
    }

    private void ShowBytes(string vmId, long bytes)
    {
        double seconds = Math.Max((_clock.Elapsed - _transferStart).TotalSeconds, 1e-3);
        double mibPerSecond = bytes / seconds / (1024 * 1024);
        if (!style.IsTerminal)
        {
            style.Line(string.Create(CultureInfo.InvariantCulture, $"progress {vmId} {bytes} {mibPerSecond:0.0}"));
            return;
        }

        string qemu = _qemu is { Passes: > 0 } q ? $", pass {q.Passes}, {Units.Bytes(q.RemainingBytes)} left" : string.Empty;
        style.Output.Write(string.Create(CultureInfo.InvariantCulture, $"\r   migrating {Units.Bytes(bytes),10} at {mibPerSecond,7:0.0} " +
            $"MiB/s{qemu}\u001b[K"));
        _lineOpen = true;
    }

    private void EndLine()
    {
        if (_lineOpen)
        {
            style.Line();
            _lineOpen = false;
        }
    }
}
