using System.Globalization;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.TestGuests;

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
        if (SecmigBinary.Find() is not { } binary)
        {
            Console.Error.WriteLine("Build the tool first: dotnet build -c Release src/SecureMigration.Cli");
            return 2;
        }

        if (TunnelPair.StunnelProgram is null || !File.Exists("/usr/bin/socat") || !ExitUsage.Available)
        {
            Console.Error.WriteLine("Install what the paths need first: apt-get install stunnel4 socat qemu-system-x86 binutils time");
            return 2;
        }

        string directory = Directory.CreateTempSubdirectory("secmig-qemu-bench-").FullName;
        var context = new MigrationBenchmarkContext(directory, await GuestImage.BuildAsync(Path.Combine(directory, "guest")), memoryMiB,
            rounds);
        BenchmarkPki.WriteFiles(context.Credentials);
        // A variant B of the tool for A/B runs in the same rounds: another build (SECMIG_B_BINARY) and/or runtime settings
        // (SECMIG_B_ENV="DOTNET_X=1 DOTNET_Y=0"), as the paths secmig-b, agents-b and tunnel-b.
        var secmig = new SecmigTool(binary, []);
        var variant = new SecmigTool(
            Environment.GetEnvironmentVariable("SECMIG_B_BINARY") is { Length: > 0 } other ? Path.GetFullPath(other) : binary,
            Environment.GetEnvironmentVariable("SECMIG_B_ENV")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []);
        string variantName =
            $" [B: {(variant.Binary == binary ? string.Empty : variant.Binary + " ")}{string.Join(' ', variant.Environment)}]";
        IMigrationPath[] paths =
        [
            new DirectQemuPath(),
            new SecmigPath(secmig),
            new AgentPairPath(secmig),
            new TunnelPath("(c) QEMU through a stunnel pair", "stunnel", TunnelPair.StartStunnelAsync),
            new QemuTlsPath(),
            new TunnelPath("QEMU through a secmig tunnel pair (libvirt's way)", "tunnel", (files,
                ports) => TunnelPair.StartSecmigAsync(secmig, files, ports)),
            new RelayFloorPath(),
            new SecmigPath(secmig, onEtcd: true),
            new SecmigPath(variant, variant: variantName),
            new AgentPairPath(variant, variantName),
            new TunnelPath("QEMU through a secmig tunnel pair" + variantName, "tunnel-b", (files,
                ports) => TunnelPair.StartSecmigAsync(variant, files, ports)),
        ];
        if (args.Length > 2)
        {
            // A comma-separated list of path keys to run besides the baseline (a): secmig, agents, stunnel, qtls, tunnel, relay,
            // secmig-etcd, secmig-b, agents-b, tunnel-b.
            string[] keys = args[2].Split(',');
            paths = [.. paths.Where((path, i) => i == 0 || keys.Contains(path.Key))];
        }
        else
        {
            paths = [.. paths.Where(path => !path.Key.EndsWith("-b", StringComparison.Ordinal))];
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
            var orders = new List<string>();
            Console.Error.WriteLine($"load average at the start: {File.ReadAllText("/proc/loadavg").Trim()}");
            // Round 0 is every path's first migration through its freshly started relays (first connection, JIT): reported
            // apart, not counted, since every relay here is a long-running service and the targets are of its steady state.
            var cold = new Dictionary<IMigrationPath, MigrationSample>();
            foreach (IMigrationPath path in paths)
            {
                cold[path] = await MigrationTrial.RunAsync(path, context, 0);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round 0 (cold, not counted) {path.Key}: total {cold[path].Total.TotalSeconds:0.000} s"));
            }

            for (int round = 1; round <= rounds; round++)
            {
                IMigrationPath[] order = [.. paths.Skip(round % paths.Length).Concat(paths.Take(round % paths.Length))];
                orders.Add(string.Join(",", order.Select(p => p.Key)));
                foreach (IMigrationPath path in order)
                {
                    MigrationSample sample = await MigrationTrial.RunAsync(path, context, round);
                    samples[path].Add(sample);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {path.Key}: total {sample.Total.TotalSeconds:0.000} s, {sample.MiBPerSecond:0} MiB/s, downtime " +
                            $"{sample.Downtime.TotalMilliseconds:0} ms, stop-to-resume {sample.StopToResume.TotalMilliseconds:0} ms, " +
                                $"{sample.Passes} passes, relay CPU {sample.Relay.Seconds:0.00} s, QEMU CPU " +
                                    $"{sample.Qemu.Seconds:0.00} s (vCPU {sample.QemuVcpuSeconds:0.00} s), relay wake-ups " +
                                        $"{sample.Relay.Voluntary}"));
                }
            }

            Console.Error.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
            MigrationReport.Write(samples, paths, context, orders, cold);
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
}
