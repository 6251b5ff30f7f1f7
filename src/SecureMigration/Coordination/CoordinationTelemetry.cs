using System.Diagnostics;
using System.Diagnostics.Metrics;
using SecureMigration.Coordination.Phases;
using SecureMigration.Telemetry;

namespace SecureMigration.Coordination;

/// <summary>The coordinator's instruments and its span per migration (listed in docs/telemetry.md).</summary>
internal static class CoordinationTelemetry
{
    public static readonly Counter<long> Migrations = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.migrations", "{migration}", "Migrations that ended on this host, by role and status.");

    public static readonly Histogram<double> Duration = SecureMigrationTelemetry.Meter.CreateHistogram<double>(
        "securemigration.migration.duration", "s", "How long migrations took on this host, by role and status.");

    public static readonly Counter<long> Bytes = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.migration.bytes", "By", "Hypervisor stream bytes moved by migrations that ended, by role.");

    /// <summary>Runs one migration inside its span and records how it ended.</summary>
    public static async Task<MigrationResult> ObserveAsync(MigrationRole role, string vmId, TimeProvider time,
        Func<Task<MigrationResult>> migration)
    {
        using Activity? activity = SecureMigrationTelemetry.ActivitySource.StartActivity(role == MigrationRole.Source ? "migration.source"
            : "migration.destination");
        activity?.SetTag("securemigration.vm_id", vmId);
        long started = time.GetTimestamp();
        try
        {
            MigrationResult result = await migration().ConfigureAwait(false);
            activity?.SetTag("securemigration.migration_id", result.MigrationId.ToString("D"));
            activity?.SetTag("securemigration.status", result.Status.ToString());
            if (result.Status != MigrationStatus.Completed)
            {
                activity?.SetStatus(ActivityStatusCode.Error, result.Reason);
            }

            Record(role, result.Status.ToString(), time.GetElapsedTime(started), result.Bytes);
            return result;
        }
        catch (Exception e)
        {
            // In doubt, or a fault the coordinator could not turn into a result: still counted, never hidden.
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Record(role, e is MigrationInDoubtException ? "InDoubt" : "Faulted", time.GetElapsedTime(started), 0);
            throw;
        }
    }

    private static void Record(MigrationRole role, string status, TimeSpan duration, long bytes)
    {
        var tags = new TagList { { "role", role.ToString() }, { "status", status } };
        Migrations.Add(1, tags);
        Duration.Record(duration.TotalSeconds, tags);
        Bytes.Add(bytes, new TagList { { "role", role.ToString() } });
    }
}
