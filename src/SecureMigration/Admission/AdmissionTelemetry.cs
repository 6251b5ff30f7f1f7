using System.Diagnostics.Metrics;
using SecureMigration.Telemetry;

namespace SecureMigration.Admission;

/// <summary>Admission's instruments (listed in docs/telemetry.md).</summary>
internal static class AdmissionTelemetry
{
    /// <summary>The tag value for each reason, computed once so that counting a decision allocates nothing.</summary>
    public static readonly string[] ReasonNames = Enum.GetNames<AdmissionDenialReason>();

    public static readonly Counter<long> Decisions = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.admission.decisions", "{decision}", "Migration requests decided, by result (None = admitted, or the denial " +
            "reason) and trigger.");

    public static readonly UpDownCounter<long> Active = SecureMigrationTelemetry.Meter.CreateUpDownCounter<long>(
        "securemigration.admission.active", "{migration}", "Admitted migrations not completed yet.");
}
