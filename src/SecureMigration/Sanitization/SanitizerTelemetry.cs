using System.Diagnostics;
using System.Diagnostics.Metrics;
using SecureMigration.Telemetry;

namespace SecureMigration.Sanitization;

/// <summary>The sanitizer's instruments (listed in docs/telemetry.md).</summary>
internal static class SanitizerTelemetry
{
    public static readonly Counter<long> Runs = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.sanitizer.runs", "{run}", "Sanitizer runs that ended, by method and result (succeeded, failed, incomplete).");

    public static readonly Counter<long> Bytes = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.sanitizer.bytes", "By", "Bytes the sanitizer overwrote, every pass counted, by method.");

    public static readonly Histogram<double> Duration = SecureMigrationTelemetry.Meter.CreateHistogram<double>(
        "securemigration.sanitizer.duration", "s", "How long sanitizer runs took, by method and result.");

    /// <summary>Records a finished run; returns its report.</summary>
    public static SanitizationReport Recorded(SanitizationReport report)
    {
        string result = report.Succeeded ? "succeeded" : report.Completed ? "failed" : "incomplete";
        var tags = new TagList { { "method", report.Method }, { "result", result } };
        Runs.Add(1, tags);
        Duration.Record((report.Finished - report.Started).TotalSeconds, tags);
        if (report.Completed)
        {
            Bytes.Add(report.Extents.Sum(e => e.Length) * report.Passes.Count, new TagList { { "method", report.Method } });
        }

        return report;
    }
}
