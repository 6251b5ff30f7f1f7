using System.Diagnostics;
using SecureMigration.Sanitization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// Times a wipe's stages from its own progress reports: the first write report (the first writes issued, after the open,
/// the device probe and the plan) and the last write report of the last pass (its last block retired, before the flush,
/// the report and the close). Reports arrive on the writer's thread (no <see cref="Progress{T}"/> posting).
/// </summary>
internal sealed class StageClock : IProgress<SanitizationProgress>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _firstWrite = double.NaN;
    private double _lastWrite = double.NaN;

    /// <summary>Gets the seconds from the start to the first write report.</summary>
    public double FirstWrite => Volatile.Read(ref _firstWrite);

    /// <summary>Gets the seconds from the start to the last write report of the last pass.</summary>
    public double LastWrite => Volatile.Read(ref _lastWrite);

    /// <inheritdoc/>
    public void Report(SanitizationProgress value)
    {
        if (value.Stage == "write" && double.IsNaN(FirstWrite))
        {
            Volatile.Write(ref _firstWrite, _clock.Elapsed.TotalSeconds);
        }

        if (value.Stage == "write" && value.Pass == value.Passes && value.Bytes == value.Total)
        {
            Volatile.Write(ref _lastWrite, _clock.Elapsed.TotalSeconds);
        }
    }
}
