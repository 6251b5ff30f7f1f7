using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using SecureMigration.Channel;
using SecureMigration.Telemetry;
using SecureMigration.Tests.Channel;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Telemetry;

/// <summary>Runs alone: the meter is process-wide, so parallel tests would add their own refusals.</summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class HandshakeLimitTelemetryTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task Listener_ReportsSlotsInUseAndCountsRefusalsByReason()
    {
        var refusals = new List<string>();
        var slots = new List<(int Value, string Endpoint)>();
        using var meter = new MeterListener();
        meter.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SecureMigrationTelemetry.Name &&
                instrument.Name.StartsWith("securemigration.channel.handshake", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meter.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "securemigration.channel.handshakes.refused")
            {
                lock (refusals)
                {
                    refusals.Add((string)tags.ToArray().Single(t => t.Key == "reason").Value!);
                }
            }
        });
        meter.SetMeasurementEventCallback<int>((_, value, tags, _) =>
            slots.Add((value, (string)tags.ToArray().Single(t => t.Key == "endpoint").Value!)));
        meter.Start();

        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var factory = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination), time));
        var limits = new SecureChannelListenerOptions
        {
            MaxConcurrentHandshakes = 2,
            MaxHandshakesPerPrefix = 1,
            ReservedForKnownSources = 0,
            HandshakeBurstPerPrefix = 1,
            HandshakesPerSecondPerPrefix = 0.001,
        };
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory, limits);
        listener.Start();
        string endpoint = listener.LocalEndPoint.ToString();

        using Socket holder = await SecureChannelListenerTests.ConnectFromAsync("127.0.6.1", listener);
        Assert.True(await SecureChannelListenerTests.IsRefusedAsync("127.0.6.2", listener));
        using Socket other = await SecureChannelListenerTests.ConnectFromAsync("127.0.7.1", listener);
        Assert.True(await SecureChannelListenerTests.IsRefusedAsync("127.0.8.1", listener));
        meter.RecordObservableInstruments();
        Assert.Contains((2, endpoint), slots);

        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(0, await SecureChannelListenerTests.ReceiveOrResetAsync(holder).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await SecureChannelListenerTests.ReceiveOrResetAsync(other).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await SecureChannelListenerTests.IsRefusedAsync("127.0.6.3", listener));
        slots.Clear();
        meter.RecordObservableInstruments();

        Assert.Contains((0, endpoint), slots);
        lock (refusals)
        {
            Assert.Equal(["prefix_slots_full", "slots_full", "first_byte_timeout", "first_byte_timeout", "prefix_rate"], refusals);
        }
    }
}
