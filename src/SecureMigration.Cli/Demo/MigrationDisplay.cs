using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Cli.Demo;

/// <summary>
/// Shows one side of a coordinated migration: each phase as it is journaled and, on the source, the stream's progress
/// (pre-copy sends dirtied memory again, so the stream may outgrow the image; the bar stops at the image size).
/// </summary>
internal sealed class MigrationDisplay(ConsoleStyle style, string host, long expectedBytes, bool showBytes) : IProgress<MigrationProgress>
{
    private MigrationPhase? _phase;
    private ProgressBar? _bar;

    public void Report(MigrationProgress value)
    {
        if (value.Phase != _phase)
        {
            _bar?.Finish(Math.Min(value.Bytes, expectedBytes));
            _bar = null;
            _phase = value.Phase;
            style.Line(style.Dim($"   {host}: {value.Phase}"));
        }

        if (showBytes && value.Phase == MigrationPhase.Transferring && value.Bytes > 0)
        {
            _bar ??= new ProgressBar(style, "   migrating", expectedBytes);
            _bar.Report(Math.Min(value.Bytes, expectedBytes));
        }
    }
}
