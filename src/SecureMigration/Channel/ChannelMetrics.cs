using System.Diagnostics.Metrics;
using SecureMigration.Telemetry;

namespace SecureMigration.Channel;

/// <summary>The secure channel's instruments (listed in docs/telemetry.md).</summary>
internal static class ChannelMetrics
{
    public static readonly Counter<long> Handshakes = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.handshakes", "{handshake}", "Secure-channel handshakes, by role and result (ok or the failure reason).");

    public static readonly Histogram<double> HandshakeDuration = SecureMigrationTelemetry.Meter.CreateHistogram<double>(
        "securemigration.channel.handshake.duration", "s", "Time from the first handshake byte to an accepted ticket.");

    public static readonly Counter<long> Bytes = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.bytes", "By", "Application bytes carried by secure channels, by direction (sent or received).");

    public static readonly Counter<long> Failures = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.failures", "{failure}", "Established channels that failed, by reason.");
}
