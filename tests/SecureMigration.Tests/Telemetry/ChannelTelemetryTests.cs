using System.Diagnostics.Metrics;
using SecureMigration.Channel;
using SecureMigration.Telemetry;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Telemetry;

/// <summary>Runs alone: the meter is process-wide, so parallel tests would add their own measurements.</summary>
[Collection(nameof(RunsAloneCollection))]
public sealed class ChannelTelemetryTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task Handshakes_AreCountedWithRoleAndResultAndBytesWithDirection()
    {
        var measurements = new List<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SecureMigrationTelemetry.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        });
        listener.Start();

        var source = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Source)));
        var destination = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.Destination)));
        var pair = new DuplexPair();
        var (client, server) = await ChannelHarness.RunAsync(source, destination, pair.Client, pair.Server, ChannelHarness.Ticket());
        await client.Channel!.Output.WriteAsync(new byte[1000]);
        await client.Channel.Output.FlushAsync();
        var rogue = new SecureChannelFactory(ChannelHarness.Options(pki.Credentials(pki.OtherCa.IssueHost("source.test"))));
        var rogueLink = new DuplexPair();
        await ChannelHarness.RunAsync(rogue, destination, rogueLink.Client, rogueLink.Server, ChannelHarness.Ticket());
        listener.RecordObservableInstruments();

        lock (measurements)
        {
            Assert.Contains(measurements, m => m.Instrument == "securemigration.channel.handshakes" && Equals(m.Tags["role"], "source") &&
                Equals(m.Tags["result"], "ok"));
            Assert.Contains(measurements, m => m.Instrument == "securemigration.channel.handshakes" && Equals(m.Tags["role"], "destination")
                && Equals(m.Tags["result"], nameof(HandshakeFailureReason.UntrustedChain)));
            Assert.Contains(measurements, m => m.Instrument == "securemigration.channel.bytes" && Equals(m.Tags["direction"], "sent") &&
                m.Value == 1000);
        }

        await client.Channel.DisposeAsync();
        await server.Channel!.DisposeAsync();
    }
}
