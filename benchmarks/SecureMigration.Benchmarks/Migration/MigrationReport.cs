using System.Globalization;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// The tables of a QEMU migration benchmark run: each path's wall time (median, min–max), its ratio to (a) within each round,
/// the processor seconds per GiB carried and the wake-ups per MiB of its relays, every round's times, and the two tunnels
/// against stunnel and QEMU's own TLS head to head.
/// </summary>
internal static class MigrationReport
{
    private const double MiB = 1024 * 1024;

    public static void Write(Dictionary<IMigrationPath, List<MigrationSample>> samples, IMigrationPath[] paths,
        MigrationBenchmarkContext context, IReadOnlyList<string> orders, Dictionary<IMigrationPath, MigrationSample> cold)
    {
        List<MigrationSample> baseline = samples[paths[0]];
        Console.WriteLine($"QEMU live migration of a {context.MemoryMiB} MiB TCG guest on loopback, {context.Rounds} interleaved rounds; " +
            $"{Environment.ProcessorCount} cores, {Environment.OSVersion.VersionString}, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine("CPU from the kernel's accounting: relay = the processes besides QEMU (tunnel ends, agent and migrate, " +
            "stunnel, socat), stream = relay + QEMU's threads but its vCPUs (QEMU's own TLS is there), all = relay + both QEMUs; " +
            "wake-ups = the relays' voluntary context switches, preempted = involuntary ones.");
        Console.WriteLine();
        Console.WriteLine("| path | total s median | min–max | × (a) | MiB/s | relay CPU s/GiB | stream CPU s/GiB (min–max) | " +
            "all CPU s/GiB | wake-ups/MiB | preempted/MiB | downtime ms | passes | sent MiB |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (IMigrationPath path in paths)
        {
            List<MigrationSample> mine = samples[path];
            double[] stream = [.. mine.Select(s => s.StreamSeconds / s.GiB)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, 
                $"| {path.Name} | {Samples.Median(mine.Select(s => s.Total.TotalSeconds)):0.000} | " +
                $"{mine.Min(s => s.Total.TotalSeconds):0.000}–{mine.Max(s => s.Total.TotalSeconds):0.000} | " +
                $"{Samples.Median(mine.Select((s, i) => s.Total / baseline[i].Total)):0.00}× | " +
                $"{Samples.Median(mine.Select(s => s.MiBPerSecond)):0} | " +
                $"{Samples.Median(mine.Select(s => s.Relay.Seconds / s.GiB)):0.00} | " +
                $"{Samples.Median(stream):0.00} ({stream.Min():0.00}–{stream.Max():0.00}) | " +
                $"{Samples.Median(mine.Select(s => (s.Relay.Seconds + s.Qemu.Seconds) / s.GiB)):0.00} | " +
                $"{Samples.Median(mine.Select(s => s.Relay.Voluntary / (s.TransferredBytes / MiB))):0.0} | " +
                $"{Samples.Median(mine.Select(s => s.Relay.Involuntary / (s.TransferredBytes / MiB))):0.0} | " +
                $"{Samples.Median(mine.Select(s => s.Downtime.TotalMilliseconds)):0} | " +
                $"{Samples.Median(mine.Select(s => (double)s.Passes)):0} | " +
                $"{Samples.Median(mine.Select(s => s.TransferredBytes / MiB)):0} |"));
        }

        Console.WriteLine();
        Console.WriteLine($"| round | order | {string.Join(" | ", paths.Select(p => p.Key + " s"))} |");
        Console.WriteLine($"|---:|---|{string.Concat(paths.Select(_ => "---:|"))}");
        for (int round = 0; round < context.Rounds; round++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {round + 1} | {orders[round]} | ") +
                string.Join(" | ", paths.Select(p => samples[p][round].Total.TotalSeconds.ToString("0.000",
                    CultureInfo.InvariantCulture))) + " |");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 0 (cold: each path's first migration through relays started " +
            $"fresh, not counted) | {string.Join(",", paths.Select(p => p.Key))} | ") +
            string.Join(" | ", paths.Select(p => cold[p].Total.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture))) + " |");
        Console.WriteLine();
        foreach (IMigrationPath contender in paths.Where(p =>
            p.Key is "tunnel" or "secmig" or "agents" or "tunnel-b" or "secmig-b" or "agents-b"))
        {
            string plain = contender.Key.Replace("-b", string.Empty, StringComparison.Ordinal);
            foreach (IMigrationPath rival in paths.Where(p => p.Key is "stunnel" or "qtls" || (p != contender && p.Key == plain)))
            {
                Console.WriteLine(HeadToHead(samples[contender], samples[rival], contender.Key, rival.Key));
            }
        }
    }

    /// <summary>One path against another: per-round ratios of the totals (median, min–max), rounds won, and processor seconds
    /// per GiB.</summary>
    private static string HeadToHead(List<MigrationSample> mine, List<MigrationSample> theirs, string me, string them)
    {
        double[] ratios = [.. mine.Select((s, i) => s.Total / theirs[i].Total)];
        int won = ratios.Count(r => r < 1);
        double myStream = Samples.Median(mine.Select(s => s.StreamSeconds / s.GiB));
        double theirStream = Samples.Median(theirs.Select(s => s.StreamSeconds / s.GiB));
        return string.Create(CultureInfo.InvariantCulture, $"{me} against {them}: {Samples.Median(ratios):0.000}× per round " +
            $"(min {ratios.Min():0.000}, max {ratios.Max():0.000}), " +
            $"faster in {won} of {ratios.Length} rounds (target 6 of 7: {(won * 7 >= ratios.Length * 6 ? "met" : "MISSED")}); " +
            $"stream CPU {myStream:0.00} against {theirStream:0.00} s/GiB ({(myStream < theirStream ? "fewer" : "MORE")}), relay CPU " +
            $"{Samples.Median(mine.Select(s => s.Relay.Seconds / s.GiB)):0.00} against " +
            $"{Samples.Median(theirs.Select(s => s.Relay.Seconds / s.GiB)):0.00}");
    }


}
