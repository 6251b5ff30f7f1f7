using System.Globalization;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.TestGuests;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// The reproducible QEMU live-migration command: the same guest migrated (a) by QEMU over plain TCP, (b) through
/// <c>secmig migrate</c>/<c>secmig agent</c>, (c) through a stunnel pair, (d) with QEMU's own TLS, in interleaved
/// rounds; the table shows medians and the ratio to (a) taken within each round.
/// </summary>
internal static class QemuMigrationRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        int memoryMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        if (SecmigBinary.Find() is not { } secmig)
        {
            Console.Error.WriteLine("Build the tool first: dotnet build -c Release src/SecureMigration.Cli");
            return 2;
        }

        if (TunnelPair.StunnelProgram is null || !File.Exists("/usr/bin/socat"))
        {
            Console.Error.WriteLine("Install what the paths need first: apt-get install stunnel4 socat qemu-system-x86 binutils");
            return 2;
        }

        string directory = Directory.CreateTempSubdirectory("secmig-qemu-bench-").FullName;
        var context = new MigrationBenchmarkContext(directory, await GuestImage.BuildAsync(Path.Combine(directory, "guest")), memoryMiB,
            rounds);
        BenchmarkPki.WriteFiles(context.Credentials);
        IMigrationPath[] paths =
        [
            new DirectQemuPath(),
            new SecmigPath(secmig),
            new TunnelPath("(c) QEMU through a stunnel pair", "stunnel", TunnelPair.StartStunnelAsync),
            new QemuTlsPath(),
            new TunnelPath("QEMU through a secmig tunnel pair (libvirt's way)", "tunnel", (files,
                ports) => TunnelPair.StartSecmigAsync(secmig, files, ports)),
            new RelayFloorPath(),
            new SecmigPath(secmig, onEtcd: true),
        ];
        if (args.Length > 2)
        {
            // A comma-separated list of path keys to run besides the baseline (a): secmig, stunnel, qtls, tunnel, relay, secmig-etcd.
            string[] keys = args[2].Split(',');
            paths = [.. paths.Where((path, i) => i == 0 || keys.Contains(path.Key))];
        }

        try
        {
            foreach (IMigrationPath path in paths)
            {
                await path.StartAsync(context);
            }

            // Rounds are interleaved (every path once per round) so drift of the shared machine hits every path alike, and the
            // order rotates each round, so no path always runs right after the same one.
            var samples = paths.ToDictionary(p => p, _ => new List<MigrationSample>());
            for (int round = 1; round <= rounds; round++)
            {
                foreach (IMigrationPath path in paths.Skip(round % paths.Length).Concat(paths.Take(round % paths.Length)))
                {
                    MigrationSample sample = await MigrationTrial.RunAsync(path, context, round);
                    samples[path].Add(sample);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {path.Key}: total {sample.Total.TotalSeconds:0.000} s, {sample.MiBPerSecond:0} MiB/s, downtime " +
                            $"{sample.Downtime.TotalMilliseconds:0} ms, stop-to-resume {sample.StopToResume.TotalMilliseconds:0} ms, " +
                                $"{sample.Passes} passes"));
                }
            }

            Report(samples, paths, context);
            return 0;
        }
        finally
        {
            foreach (IMigrationPath path in paths)
            {
                path.Dispose();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Report(Dictionary<IMigrationPath, List<MigrationSample>> samples, IMigrationPath[] paths,
        MigrationBenchmarkContext context)
    {
        List<MigrationSample> baseline = samples[paths[0]];
        Console.WriteLine($"QEMU live migration of a {context.MemoryMiB} MiB TCG guest on loopback, {context.Rounds} interleaved rounds, " +
            $"medians; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| path | total s | × (a), same round | MiB/s | QEMU total s | QEMU downtime ms | stop→resume ms | passes | " +
            "sent MiB |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        var ratios = new Dictionary<IMigrationPath, double>();
        foreach (IMigrationPath path in paths)
        {
            List<MigrationSample> mine = samples[path];
            ratios[path] = Samples.Median(mine.Select((s, i) => s.Total / baseline[i].Total));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {path.Name} | {Samples.Median(mine.Select(s => s.Total.TotalSeconds)):0.000} | {ratios[path]:0.00}× | " +
                    $"{Samples.Median(mine.Select(s => s.MiBPerSecond)):0} | " +
                        $"{Samples.Median(mine.Select(s => s.QemuTotal.TotalSeconds)):0.000} | " +
                        $"{Samples.Median(mine.Select(s => s.Downtime.TotalMilliseconds)):0} | " +
                            $"{Samples.Median(mine.Select(s => s.StopToResume.TotalMilliseconds)):0} | " +
                                $"{Samples.Median(mine.Select(s => (double)s.Passes)):0} | " +
                                    $"{Samples.Median(mine.Select(s => s.TransferredBytes / 1048576.0)):0} |"));
        }

        if (paths.Length == 7)
        {
            double secmig = ratios[paths[1]];
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Targets: (b) ≤ 1.25× (a): {secmig:0.00}× {(secmig <= 1.25 ? "met" : "MISSED")}; " +
                $"(b) < (c): {Against(paths[2])}; (b) < (d): {Against(paths[3])}"));
        }

        // (b) against another path head to head: the median of the per-round ratios of their totals, and the rounds (b) won.
        string Against(IMigrationPath other)
        {
            List<MigrationSample> mine = samples[paths[1]];
            List<MigrationSample> theirs = samples[other];
            double ratio = Samples.Median(mine.Select((s, i) => s.Total / theirs[i].Total));
            int won = mine.Where((s, i) => s.Total < theirs[i].Total).Count();
            return string.Create(CultureInfo.InvariantCulture,
                $"{ratio:0.000}× per round, faster in {won} of {mine.Count} rounds, {(ratio < 1 ? "met" : "MISSED")}");
        }
    }
}
