using System.Diagnostics.Metrics;
using System.Globalization;
using SecureMigration.Telemetry;

namespace SecureMigration.Cli.Terminal;

/// <summary>
/// <c>--metrics</c>: listens to the SecureMigration meter while a command runs and prints what it measured when the
/// command ends, one line per instrument and tag set (sums for counters; count, sum and maximum for histograms).
/// </summary>
internal sealed class MetricsReport : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Instrument, string Tags), Series> _series = [];
    private readonly Lock _gate = new();

    private MetricsReport()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SecureMigrationTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Starts listening.</summary>
    public static MetricsReport Start() => new();

    /// <summary>Prints every series measured so far, sorted by instrument and tags.</summary>
    public void WriteTo(TextWriter output)
    {
        lock (_gate)
        {
            foreach (((string instrument, string tags), Series series) in _series.OrderBy(s => s.Key.Instrument, StringComparer.Ordinal)
                .ThenBy(s => s.Key.Tags, StringComparer.Ordinal))
            {
                string values = series.IsHistogram
                    ? string.Create(CultureInfo.InvariantCulture, $"count={series.Count} sum={series.Sum:0.######} " +
                        $"max={series.Max:0.######}")
                    : series.Sum.ToString("0.######", CultureInfo.InvariantCulture);
                output.WriteLine($"metric {instrument}{tags} {values} {series.Unit}".TrimEnd());
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string key = tags.Length == 0
            ? string.Empty
            : "{" + string.Join(',', tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")) + "}";
        lock (_gate)
        {
            if (!_series.TryGetValue((instrument.Name, key), out Series? series))
            {
                series = new Series(instrument.Unit ?? string.Empty, instrument is Histogram<double> or Histogram<long>);
                _series[(instrument.Name, key)] = series;
            }

            series.Count++;
            series.Sum += value;
            series.Max = series.Count == 1 ? value : Math.Max(series.Max, value);
        }
    }

    private sealed class Series(string unit, bool isHistogram)
    {
        public string Unit { get; } = unit;

        public bool IsHistogram { get; } = isHistogram;

        public long Count { get; set; }

        public double Sum { get; set; }

        public double Max { get; set; }
    }
}
