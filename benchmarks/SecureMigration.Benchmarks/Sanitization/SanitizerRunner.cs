using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SecureMigration.Sanitization;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// The sanitizer's targets on a file, each against its baseline in the same round: zero fill against dd, random fill
/// against our zero fill and shred, verification against an O_DIRECT sequential read (dd); and in memory the design
/// choices of <see cref="KeystreamComparison"/> (keystream against the OS CSPRNG and ChaCha20, verification's cost). On a
/// block device against fio, dd, shred and nwipe: <see cref="DeviceBenchRunner"/>.
/// Rounds interleave every case; medians and per-round ratios are reported, and the
/// samples are exported as CSV and JSON with an SVG chart. Every file case starts with the page cache dropped (as root).
/// Usage: <c>dotnet run -c Release -- sanitizer [MiB] [rounds] [output-directory]</c>.
/// </summary>
internal static class SanitizerRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        long mib = args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2048;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        string output = args.Length > 2 ? args[2] : Directory.GetCurrentDirectory();
        long bytes = mib * 1024 * 1024;
        string directory = Directory.CreateTempSubdirectory("secmig-bench-sanitizer-").FullName;
        string file = Path.Combine(directory, "target.img");
        var sanitizer = new BlockSanitizer(new SanitizerOptions { Verification = VerificationMode.None });
        var samples = new List<(int Round, string Case, double GiBps)>();
        try
        {
            await Process("dd", $"if=/dev/zero of={file} bs=1M count={mib} conv=fdatasync");
            (string? Name, Func<Task<double>> Run) ddZero = ("dd zero fill (bs=1M, fdatasync)", () => Process("dd",
                $"if=/dev/zero of={file} bs=1M count={mib} conv=notrunc,fdatasync"));
            Func<Task<double>> zeroFill = () => Time(() => sanitizer.SanitizeFileAsync(file, [SanitizationPass.Fill(0)], "zero",
                VerificationMode.None));
            (string? Name, Func<Task<double>> Run) zero = ("sanitizer zero fill", zeroFill);
            // Each read follows a zero fill of its own: the virtual disk's host keeps its own cache of what was just
            // written or read, which the guest cannot drop, so a read that follows another read of the same file is faster.
            (string? Name, Func<Task<double>> Run) rewrite = (null, zeroFill);
            (string? Name, Func<Task<double>> Run) verification = ("sanitizer full verification",
                () => Time(() => sanitizer.VerifyFileAsync(file, SanitizationPass.Fill(0))));
            (string? Name, Func<Task<double>> Run) directRead = ("dd O_DIRECT read (bs=1M)", () => Process("dd",
                $"if={file} of=/dev/null bs=1M iflag=direct"));
            (string? Name, Func<Task<double>> Run) random = ("sanitizer random fill", () => Time(() => sanitizer.SanitizeFileAsync(file,
                [SanitizationPass.Random], "random", VerificationMode.None)));
            // Zeros can be cheaper for a virtual disk than any other byte: a non-zero pattern tells the disk's share from the keystream's.
            (string? Name, Func<Task<double>> Run) ones = ("sanitizer 0xFF fill", () => Time(() => sanitizer.SanitizeFileAsync(file,
                [SanitizationPass.Fill(0xFF)], "ones", VerificationMode.None)));
            (string? Name, Func<Task<double>> Run) shred = ("shred -n 1", () => Process("shred", $"-n 1 {file}"));
            (string? Name, Func<Task<double>> Run)[][] groups = [[ddZero], [zero, verification], [rewrite, directRead], [random], [ones],
                [shred]];
            for (int round = 1; round <= rounds; round++)
            {
                // The disk remembers the case before (write-back in the host, its own caches): each round starts one group
                // later, so no case always follows the same one.
                for (int i = 0; i < groups.Length; i++)
                {
                    foreach ((string? name, Func<Task<double>> run) in groups[(i + round - 1) % groups.Length])
                    {
                        double seconds = await run();
                        if (name is not null)
                        {
                            Add(round, name, bytes, seconds);
                        }
                    }
                }

                foreach ((string name, long amount, double seconds, _) in KeystreamComparison.Run())
                {
                    Add(round, name, amount, seconds);
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        Report(samples, output);
        return 0;

        void Add(int round, string name, long amount, double seconds)
        {
            double rate = amount / seconds / (1L << 30);
            samples.Add((round, name, rate));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {name,-42} {rate,7:0.00} GiB/s"));
        }
    }

    private static void Report(List<(int Round, string Case, double GiBps)> samples, string output)
    {
        (string Case, string Baseline, double? Target)[] targets =
        [
            ("sanitizer zero fill", "dd zero fill (bs=1M, fdatasync)", 1.0),
            ("sanitizer random fill", "sanitizer zero fill", 0.85),
            ("sanitizer random fill", "shred -n 1", 2.0),
            ("sanitizer random fill", "sanitizer 0xFF fill", 0.85),
            ("sanitizer full verification", "dd O_DIRECT read (bs=1M)", 0.9),

            // Design choices, no target: the keystream against AES-256, the OS CSPRNG and ChaCha20, verification's cost in memory.
            (KeystreamComparison.Keystream, KeystreamComparison.Keystream256, null),
            (KeystreamComparison.Keystream, KeystreamComparison.Rng, null),
            (KeystreamComparison.Keystream, KeystreamComparison.ChaCha, null),
            (KeystreamComparison.MemoryVerified, KeystreamComparison.MemoryUnverified, null),
        ];
        var table = new StringBuilder("| case | median GiB/s | baseline | median ratio, same round | target | met " +
            "|\n|---|---:|---|---:|---:|---|\n");
        foreach ((string name, string baseline, double? target) in targets)
        {
            double median = Samples.Median(samples.Where(s => s.Case == name).Select(s => s.GiBps));
            double ratio = Samples.Median(samples.Where(s => s.Case == name).Select(s => s.GiBps / samples.Single(b => b.Case == baseline &&
                b.Round == s.Round).GiBps));
            table.Append(CultureInfo.InvariantCulture, $"| {name} | {median:0.00} | {baseline} " +
                $"({Samples.Median(samples.Where(s => s.Case == baseline).Select(s => s.GiBps)):0.00}) | {ratio:0.00} | " +
                $"{(target is double t ? $"≥ {t:0.00} | {(ratio >= t ? "yes" : "**no**")}" : "— | —")} |\n");
        }

        Console.WriteLine();
        Console.WriteLine(table);
        Directory.CreateDirectory(output);
        File.WriteAllLines(Path.Combine(output, "sanitizer-samples.csv"),
            ["round,case,gib_per_s", .. samples.Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s.Round},\"{s.Case}\",{s.GiBps:0.000}"))]);
        File.WriteAllText(Path.Combine(output, "sanitizer-samples.json"),
            JsonSerializer.Serialize(samples.Select(s => new { round = s.Round, @case = s.Case, gibPerSecond = Math.Round(s.GiBps, 3) }),
                new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(output, "sanitizer-medians.svg"), Chart(samples));
        Console.WriteLine($"Wrote sanitizer-samples.csv, sanitizer-samples.json and sanitizer-medians.svg to {output}.");
    }

    /// <summary>A horizontal bar chart of the medians, as plain SVG.</summary>
    private static string Chart(List<(int Round, string Case, double GiBps)> samples)
    {
        var medians = samples.GroupBy(s => s.Case).Select(g => (Case: g.Key, Median: Samples.Median(g.Select(s => s.GiBps)))).ToList();
        double max = medians.Max(m => m.Median);
        const int Row = 26;
        const int Label = 300;
        const int Width = 420;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Label + Width + 80}\" " +
            $"height=\"{(medians.Count * Row) + 40}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"16\" font-weight=\"bold\">Sanitizer and baselines, median " +
            $"GiB/s</text>\n");
        for (int i = 0; i < medians.Count; i++)
        {
            int y = 30 + (i * Row);
            double width = Width * medians[i].Median / max;
            svg.Append(CultureInfo.InvariantCulture,
                $"<text x=\"4\" y=\"{y + 14}\">{System.Security.SecurityElement.Escape(medians[i].Case)}</text>");
            bool ours = medians[i].Case.StartsWith("sanitizer", StringComparison.Ordinal) ||
                medians[i].Case.StartsWith("keystream", StringComparison.Ordinal);
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Label}\" y=\"{y}\" width=\"{width:0.0}\" height=\"18\" " +
                $"fill=\"{(ours ? "#2b7bb9" : "#999999")}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Label + width + 4:0.0}\" " +
                $"y=\"{y + 14}\">{medians[i].Median:0.00}</text>\n");
        }

        return svg.Append("</svg>\n").ToString();
    }

    /// <summary>Starts every file case cold: dirty pages written back and the page cache emptied, where this process may.</summary>
    private static void DropCaches()
    {
        const string Control = "/proc/sys/vm/drop_caches";
        try
        {
            using Process sync = System.Diagnostics.Process.Start("sync")!;
            sync.WaitForExit();
            File.WriteAllText(Control, "3");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            // Not root: cases run with whatever is cached.
        }
    }

    private static async Task<double> Time(Func<Task> action)
    {
        DropCaches();
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> Process(string program, string arguments)
    {
        DropCaches();
        var clock = Stopwatch.StartNew();
        using Process process = System.Diagnostics.Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true,
            RedirectStandardOutput = true })!;
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments} failed with exit code {process.ExitCode}.");
        }

        return clock.Elapsed.TotalSeconds;
    }
}
