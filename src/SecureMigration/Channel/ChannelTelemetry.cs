using System.Diagnostics.Metrics;
using SecureMigration.Channel.Limits;
using SecureMigration.Telemetry;

namespace SecureMigration.Channel;

/// <summary>The secure channel's instruments (listed in docs/telemetry.md).</summary>
internal static class ChannelTelemetry
{
    /// <summary>The listeners whose handshake slots the slot gauge reports, by their local address.</summary>
    private static readonly Dictionary<HandshakeLimiter, string> Listeners = [];

    public static readonly Counter<long> Handshakes = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.handshakes", "{handshake}", "Secure-channel handshakes, by role and result (ok or the failure reason).");

    public static readonly Histogram<double> HandshakeDuration = SecureMigrationTelemetry.Meter.CreateHistogram<double>(
        "securemigration.channel.handshake.duration", "s", "Time from the first handshake byte to an accepted ticket.");

    public static readonly Counter<long> Bytes = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.bytes", "By", "Application bytes carried by secure channels, by direction (sent or received).");

    public static readonly Counter<long> Failures = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.failures", "{failure}", "Established channels that failed, by reason.");

    public static readonly Counter<long> HandshakesRefused = SecureMigrationTelemetry.Meter.CreateCounter<long>(
        "securemigration.channel.handshakes.refused", "{handshake}",
        "Connections a listener closed before their handshake finished, by reason (slots_full, prefix_slots_full, prefix_rate, " +
        "first_byte_timeout), or once authenticated with no place to wait for their tickets (waiting_full).");

    public static readonly ObservableGauge<int> HandshakeSlots = SecureMigrationTelemetry.Meter.CreateObservableGauge(
        "securemigration.channel.handshake.slots", ObserveSlots, "{handshake}", "Handshake slots in use, by listener (its local address).");

    /// <summary>Reports the slots <paramref name="limiter"/> has in use, tagged <paramref name="endpoint"/>, until untracked.</summary>
    public static void TrackSlots(HandshakeLimiter limiter, string endpoint)
    {
        lock (Listeners)
        {
            Listeners[limiter] = endpoint;
        }
    }

    public static void UntrackSlots(HandshakeLimiter limiter)
    {
        lock (Listeners)
        {
            Listeners.Remove(limiter);
        }
    }

    public static void CountRefusal(HandshakeRefusal reason)
    {
        string tag = reason switch
        {
            HandshakeRefusal.SlotsFull => "slots_full",
            HandshakeRefusal.PrefixSlotsFull => "prefix_slots_full",
            HandshakeRefusal.PrefixRate => "prefix_rate",
            HandshakeRefusal.WaitingFull => "waiting_full",
            _ => "first_byte_timeout",
        };
        HandshakesRefused.Add(1, new KeyValuePair<string, object?>("reason", tag));
    }

    private static IEnumerable<Measurement<int>> ObserveSlots()
    {
        lock (Listeners)
        {
            return [.. Listeners.Select(pair =>
                new Measurement<int>(pair.Key.Active, new KeyValuePair<string, object?>("endpoint", pair.Value)))];
        }
    }
}
