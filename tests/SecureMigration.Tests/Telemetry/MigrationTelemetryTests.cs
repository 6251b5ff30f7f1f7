using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using SecureMigration.Coordination;
using SecureMigration.Sanitization;
using SecureMigration.Telemetry;
using SecureMigration.Tests.Coordination;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Telemetry;

/// <summary>
/// Collects every instrument and span during a real coordinated migration and a wipe, and holds them to
/// docs/telemetry.md: each instrument the meter publishes is listed there with the same type and unit.
/// </summary>
[Collection(nameof(RunsAloneCollection))]
public sealed partial class MigrationTelemetryTests
{
    [Fact]
    public async Task Migration_ReportsDocumentedInstrumentsWithUnitsAndTags_AndASpanPerRole()
    {
        var published = new List<Instrument>();
        var measurements = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SecureMigrationTelemetry.Name)
            {
                lock (published)
                {
                    published.Add(instrument);
                }

                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Collect(instrument, value, tags));
        meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Collect(instrument, value, tags));
        meters.Start();
        var spans = new List<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SecureMigrationTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (spans)
                {
                    spans.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(activities);

        await using (TwoHosts hosts = await TwoHosts.CreateAsync())
        {
            (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();
            Assert.Equal(MigrationStatus.Completed, source.Status);
            Assert.Equal(MigrationStatus.Completed, destination!.Status);
        }

        new BlockSanitizer(new SanitizerOptions()).SanitizeMemory(new byte[64 * 1024], SanitizationMethod.Zero);

        lock (measurements)
        {
            foreach (string role in new[] { "Source", "Destination" })
            {
                Assert.Contains(measurements, m => m.Instrument == "securemigration.migrations" && Tag(m, "role") == role && Tag(m,
                    "status") == "Completed" && m.Value == 1);
                Assert.Contains(measurements, m => m.Instrument == "securemigration.migration.duration" && Tag(m, "role") == role &&
                    m.Value > 0);
                Assert.Contains(measurements, m => m.Instrument == "securemigration.migration.bytes" && Tag(m, "role") == role &&
                    m.Value >= TwoHosts.VmSize);
            }

            Assert.Contains(measurements, m => m.Instrument == "securemigration.channel.handshakes" && Tag(m, "role") == "source" && Tag(m,
                "result") == "ok");
            Assert.Contains(measurements, m => m.Instrument == "securemigration.channel.bytes" && Tag(m, "direction") == "sent" &&
                m.Value > 0);
            Assert.Contains(measurements, m => m.Instrument == "securemigration.sanitizer.runs" && Tag(m, "method") == "Zero" && Tag(m,
                "result") == "succeeded");
            Assert.Contains(measurements, m => m.Instrument == "securemigration.sanitizer.bytes" && m.Value == 64 * 1024);
        }

        lock (spans)
        {
            Activity sourceSpan = Assert.Single(spans, s => s.OperationName == "migration.source");
            Activity destinationSpan = Assert.Single(spans, s => s.OperationName == "migration.destination");
            foreach (Activity span in new[] { sourceSpan, destinationSpan })
            {
                Assert.Equal(TwoHosts.VmId, span.GetTagItem("securemigration.vm_id"));
                Assert.Equal("Completed", span.GetTagItem("securemigration.status"));
                Assert.NotEqual(ActivityStatusCode.Error, span.Status);
            }

            Assert.Equal(sourceSpan.GetTagItem("securemigration.migration_id"), destinationSpan.GetTagItem("securemigration.migration_id"));
            Assert.Contains(spans, s => s.OperationName == "secure_channel.source");
        }

        Dictionary<string, (string Type, string Unit)> documented = DocumentedInstruments();
        lock (published)
        {
            Assert.NotEmpty(published);
            foreach (Instrument instrument in published.DistinctBy(i => i.Name))
            {
                Assert.True(documented.TryGetValue(instrument.Name, out (string Type, string Unit) entry), $"{instrument.Name} is not " +
                    $"listed in docs/telemetry.md");
                Assert.Equal(entry.Unit, instrument.Unit);
                Assert.Equal(entry.Type, instrument switch
                {
                    Counter<long> => "counter",
                    Histogram<double> => "histogram",
                    UpDownCounter<long> => "up-down counter",
                    ObservableGauge<int> => "observable gauge",
                    _ => instrument.GetType().Name,
                });
            }
        }

        void Collect(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        }
    }

    [Fact]
    public void LogEvents_EveryLoggerMessageOfTheLibrariesIsListedWithItsIdAndLevel()
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository.Root, "docs", "telemetry.md"));
        var events = new[] { typeof(SecureMigrationTelemetry).Assembly, typeof(SecureMigration.Qemu.QemuDriver).Assembly }
            .SelectMany(assembly => assembly.GetTypes())
            .SelectMany(type => type.GetMethods(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public |
                System.Reflection.BindingFlags.NonPublic))
            .Select(method => method.GetCustomAttributes(typeof(Microsoft.Extensions.Logging.LoggerMessageAttribute),
                false).Cast<Microsoft.Extensions.Logging.LoggerMessageAttribute>().SingleOrDefault())
            .OfType<Microsoft.Extensions.Logging.LoggerMessageAttribute>()
            .ToList();

        Assert.NotEmpty(events);
        foreach (Microsoft.Extensions.Logging.LoggerMessageAttribute logged in events)
        {
            Assert.True(lines.Any(line => line.StartsWith($"| {logged.EventId} | {logged.Level} |", StringComparison.Ordinal)),
                $"log event {logged.EventId} ({logged.Level}: {logged.Message}) is not listed in docs/telemetry.md with its level");
        }
    }

    private static string? Tag((string Instrument, double Value, Dictionary<string, object?> Tags) measurement, string name) =>
        measurement.Tags.TryGetValue(name, out object? value) ? value?.ToString() : null;

    /// <summary>Reads the metrics table of docs/telemetry.md: instrument, type and unit.</summary>
    private static Dictionary<string, (string Type, string Unit)> DocumentedInstruments()
    {
        return File.ReadAllLines(Path.Combine(Repository.Root, "docs", "telemetry.md"))
            .Select(line => MetricRow().Match(line))
            .Where(match => match.Success)
            .ToDictionary(match => match.Groups["name"].Value, match => (match.Groups["type"].Value, match.Groups["unit"].Value));
    }

    [GeneratedRegex(@"^\| `(?<name>securemigration\.[a-z._]+)` \| (?<type>[a-z -]+) \| `?(?<unit>[^`|]+?)`? \|")]
    private static partial Regex MetricRow();
}
