using System.Globalization;
using System.Security;
using System.Text;
using System.Text.Json;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// Writes the device bench's samples as CSV (every row carries the environment), JSON (environment, samples, summary,
/// ratios), an SVG chart of the medians with min–max whiskers, and a Markdown table; prints the tables.
/// </summary>
internal static class DeviceBenchReport
{
    /// <summary>The ratios, each per round against a baseline measured in the same round; a null target is context only.</summary>
    private static readonly (string Case, string Baseline, double? Target, string Meaning)[] Ratios =
    [
        (DeviceCases.Zero, DeviceCases.FioWrite, 0.9, "written zeros against the device's O_DIRECT write limit at the same bs and depth"),
        (DeviceCases.Random, DeviceCases.FioWrite, 0.9,
            "keystream pass against the device's write limit: the keystream's cost on the wire"),
        (DeviceCases.Offloaded, DeviceCases.Zero, 1.0, "device's own zeroing against writing the zeros (> 1 means faster)"),
        (DeviceCases.Random, DeviceCases.FioWriteFresh, null,
            "keystream pass against fio writing fresh blocks of its own fast non-cryptographic PRNG: what fresh data costs any writer"),
        (DeviceCases.Random, DeviceCases.Shred, 2.0, "random pass against coreutils shred's one random pass"),
        (DeviceCases.Random, DeviceCases.Nwipe, 1.0, "random pass against nwipe's PRNG stream pass"),
        (DeviceCases.Verify, DeviceCases.FioRead, 0.9, "full verification against the device's O_DIRECT read limit"),
        (DeviceCases.Ones, DeviceCases.FioWrite, null, "0xFF fill against the write limit"),
        (DeviceCases.Dd, DeviceCases.FioWrite, null, "dd (one write in flight) against the write limit at depth 4"),
        (DeviceCases.Nist, DeviceCases.FioWrite, null, "NIST Clear (zero pass + sampled verification) against the write limit"),
        (DeviceCases.DoD, DeviceCases.FioWrite, null, "DoD, bytes of all 3 passes per second, against the write limit"),
        (DeviceCases.Gutmann, DeviceCases.FioWrite, null, "Gutmann, bytes of all 35 passes per second, against the write limit"),
        (KeystreamComparison.Keystream, KeystreamComparison.Keystream256, null,
            "AES-128-CTR keystream against AES-256-CTR: what the cipher's key length costs (ADR 0024)"),
        (KeystreamComparison.Keystream, KeystreamComparison.Rng, null, "AES-CTR keystream against taking the bytes from the OS CSPRNG"),
        (KeystreamComparison.Keystream, KeystreamComparison.ChaCha, null, "AES-CTR (AES-NI) against ChaCha20 in managed code"),
        (KeystreamComparison.MemoryVerified, KeystreamComparison.MemoryUnverified, null,
            "memory wipe with its default read-back against none: what verification costs"),
    ];

    /// <summary>Writes the files and prints the tables.</summary>
    public static void Write(List<DeviceSample> samples, List<KeyValuePair<string, string>> environment, string output)
    {
        string stem = Path.Combine(output, $"sanitizer-device-{DateTime.UtcNow:yyyy-MM-dd}");
        Directory.CreateDirectory(output);
        var summary = samples.GroupBy(s => s.Case).Select(g => new
        {
            Case = g.Key,
            Kind = g.First().Kind,
            MedianGiBps = Samples.Median(g.Select(s => s.GiBps)),
            MinGiBps = g.Min(s => s.GiBps),
            MaxGiBps = g.Max(s => s.GiBps),
            MedianSeconds = Samples.Median(g.Select(s => s.Seconds)),
            MedianCpuSecondsPerGiB = Samples.Median(g.Select(s => s.CpuSeconds / (s.Bytes / (double)(1L << 30)))),
            CacheDropped = $"{g.Count(s => s.Cache.Passed || s.Kind == "cpu")}/{g.Count()}",
        }).ToList();
        // A case not run (the offloaded zero where the backing file system cannot zero a range) has no ratio.
        var ratios = Ratios.Where(r => samples.Any(s => s.Case == r.Case) && samples.Any(s => s.Case == r.Baseline)).Select(r =>
        {
            double[] perRound = [.. samples.Where(s => s.Case == r.Case).Select(s => s.GiBps / samples.Single(b => b.Case == r.Baseline &&
                b.Round == s.Round).GiBps)];
            return new
            {
                r.Case,
                r.Baseline,
                r.Target,
                r.Meaning,
                Median = Samples.Median(perRound),
                Min = perRound.Min(),
                Max = perRound.Max(),
                PerRound = perRound.Select(v => Math.Round(v, 3)).ToArray(),
                RoundsMet = r.Target is double t ? perRound.Count(v => r.Baseline == DeviceCases.Zero ? v > t : v >= t) : (int?)null,
                Rounds = perRound.Length,
            };
        }).ToList();

        var md = new StringBuilder();
        md.Append("| case | median GiB/s | min–max GiB/s | median s | CPU s/GiB | cache dropped |\n|---|---:|---:|---:|---:|---|\n");
        foreach (var s in summary)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {s.Case} | {s.MedianGiBps:0.000} | {s.MinGiBps:0.000}–{s.MaxGiBps:0.000} | " +
                $"{s.MedianSeconds:0.00} | {s.MedianCpuSecondsPerGiB:0.000} | {s.CacheDropped} |\n");
        }

        md.Append("\n| ratio (same round) | median | min–max | target | rounds met | meaning |\n|---|---:|---:|---:|---:|---|\n");
        foreach (var r in ratios)
        {
            string target = r.Target is double t
                ? (r.Baseline == DeviceCases.Zero ? "> " : "≥ ") + t.ToString("0.0#", CultureInfo.InvariantCulture)
                : "—";
            md.Append(CultureInfo.InvariantCulture, $"| {r.Case} / {r.Baseline} | {r.Median:0.00} | {r.Min:0.00}–{r.Max:0.00} | " +
                $"{target} | " +
                $"{(r.RoundsMet is int m ? $"{m}/{r.Rounds}" : "—")} | {r.Meaning} |\n");
        }

        md.Append("\n| environment | value |\n|---|---|\n");
        foreach ((string key, string value) in environment)
        {
            string escaped = value.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
            md.Append(CultureInfo.InvariantCulture, $"| {key} | {escaped} |\n");
        }

        Console.WriteLine();
        Console.WriteLine(md);
        File.WriteAllText(stem + ".md", $"# Sanitizer on a block device, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n\n" +
            "Generated by `sanitizer-device`; see docs/benchmarks.md, issue 20.\n\n" + md);
        string[] keys = [.. environment.Select(e => e.Key)];
        File.WriteAllLines(stem + ".csv",
        [
            "round,position,case,kind,bytes,seconds,gib_per_s,cpu_seconds,cache_backing_resident_bytes,cache_buffers_kib," +
                "cache_cached_kib,cache_backing_is_medium,cache_dropped,note," + string.Join(',', keys),
            .. samples.Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s.Round},{s.Position},{Quote(s.Case)},{s.Kind},{s.Bytes},{s.Seconds:0.0000},{s.GiBps:0.0000},{s.CpuSeconds:0.000}," +
                $"{s.Cache.BackingResidentBytes},{s.Cache.BuffersKiB},{s.Cache.CachedKiB},{s.Cache.BackingIsMedium}," +
                $"{(s.Kind == "cpu" ? "n/a" : s.Cache.Passed)}," +
                $"{Quote(s.Note)},{string.Join(',', environment.Select(e => Quote(e.Value)))}")),
        ]);
        File.WriteAllText(stem + ".json", JsonSerializer.Serialize(new
        {
            environment = environment.ToDictionary(e => e.Key, e => e.Value),
            cacheCheck = "sync; echo 3 > /proc/sys/vm/drop_caches; then fincore of the backing file must show 0 bytes resident " +
                "(unless the file is in memory, tmpfs, where its pages are the medium) and " +
                $"/proc/meminfo Buffers must be under {CacheCheck.BuffersLimitKiB} KiB",
            samples,
            summary,
            ratios,
        }, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        File.WriteAllText(stem + ".svg", Chart(samples, environment));
        Console.WriteLine($"Wrote {stem}.csv, .json, .svg and .md.");
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal).ReplaceLineEndings(" ") + "\"";

    /// <summary>Horizontal bars of the medians with min–max whiskers; ours blue, baselines grey, in-memory cases green.</summary>
    private static string Chart(List<DeviceSample> samples, List<KeyValuePair<string, string>> environment)
    {
        var rows = samples.GroupBy(s => s.Case).Select(g => (Case: g.Key, g.First().Kind, Median: Samples.Median(g.Select(s => s.GiBps)),
            Min: g.Min(s => s.GiBps), Max: g.Max(s => s.GiBps))).ToList();
        double max = rows.Max(r => r.Max);
        const int Row = 24;
        const int Label = 330;
        const int Width = 440;
        int height = 64 + (rows.Count * Row) + 40;
        string Get(string key) => environment.FirstOrDefault(e => e.Key == key).Value ?? "";
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Label + Width + 90}\" " +
            $"height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"16\" font-weight=\"bold\">Sanitizer on a loop device against " +
            $"fio, dd, shred, nwipe: GiB/s, median of {samples.Max(s => s.Round)} rounds, whiskers min–max</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"34\">{SecurityElement.Escape($"{Get("cpu")}, {Get("cores")} cores, " +
            $"{Get("kernel")}")}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"50\">{SecurityElement.Escape($"{Get("device")} loop dio=" +
            $"{Get("loop_dio")} on {Get("backing_filesystem")} ({Get("backing_disk")}), bs {Get("block_size")} B, depth " +
            $"{Get("queue_depth")}, {long.Parse(Get("device_bytes"), CultureInfo.InvariantCulture) >> 20} MiB")}</text>\n");
        for (int i = 0; i < rows.Count; i++)
        {
            int y = 64 + (i * Row);
            double scale = Width / max;
            string colour = rows[i].Kind == "cpu" ? "#4a9a4a" : rows[i].Case.StartsWith("sanitizer", StringComparison.Ordinal) ? "#2b7bb9"
                : "#999999";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + 14}\">{SecurityElement.Escape(rows[i].Case)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label}\" y=\"{y}\" width=\"{rows[i].Median * scale:0.0}\" " +
                $"height=\"18\" fill=\"{colour}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Label + (rows[i].Min * scale):0.0}\" " +
                $"x2=\"{Label + (rows[i].Max * scale):0.0}\" " +
                $"y1=\"{y + 9}\" y2=\"{y + 9}\" stroke=\"black\"/><line x1=\"{Label + (rows[i].Min * scale):0.0}\" " +
                $"x2=\"{Label + (rows[i].Min * scale):0.0}\" y1=\"{y + 4}\" y2=\"{y + 14}\" stroke=\"black\"/><line " +
                $"x1=\"{Label + (rows[i].Max * scale):0.0}\" x2=\"{Label + (rows[i].Max * scale):0.0}\" y1=\"{y + 4}\" y2=\"{y + 14}\" " +
                $"stroke=\"black\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Label + (rows[i].Max * scale) + 4:0.0}\" y=\"{y + 14}\">" +
                $"{rows[i].Median:0.00}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{height - 12}\">blue: sanitizer on the device; grey: other tools; " +
            $"green: in memory, one core (keystream, CSPRNG, ChaCha20, memory wipe)</text>\n");
        return svg.Append("</svg>\n").ToString();
    }
}
