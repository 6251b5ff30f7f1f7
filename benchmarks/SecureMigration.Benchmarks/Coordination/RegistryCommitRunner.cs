using System.Diagnostics;
using System.Globalization;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// The cost of a commit in the ownership registry: the destination's compare-and-swap, which sits between the source's
/// stop and the destination's resume (with, where the registry keeps revisions, the fencing token's re-read before the
/// VM runs), in the file registry and in a three-member etcd cluster with TLS on loopback, in
/// the same run, alternating which goes first each round. Both registries sign every record with the owner's key.
/// Reports latency (median, p99, range) and the CPU of this process and of the etcd members per commit.
/// Run: <c>dotnet run -c Release -- registry-commit [ROUNDS] [COMMITS]</c>.
/// </summary>
internal static class RegistryCommitRunner
{
    private const string Source = "src.bench";
    private const string Destination = "dst.bench";

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4;
        int commits = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        string directory = Directory.CreateTempSubdirectory("secmig-bench-registry-").FullName;
        using CertificateAuthority ca = CertificateAuthority.Create("Registry bench CA");
        var members = new List<BackgroundProcess>();
        try
        {
            string endpoints = await BenchEtcd.StartAsync(ca, directory, members);
            X509ChannelCredentials source = BenchEtcd.Credentials(ca, Source), destination = BenchEtcd.Credentials(ca, Destination);
            using var etcdSource = new EtcdOwnershipRegistry(EtcdRegistryOptions.Parse(endpoints, source));
            using var etcdDestination = new EtcdOwnershipRegistry(EtcdRegistryOptions.Parse(endpoints, destination));
            var cases = new (string Name, IOwnershipRegistry Source, IOwnershipRegistry Destination)[]
            {
                ("file registry", new FileOwnershipRegistry(Path.Combine(directory, "file"), signer: source),
                    new FileOwnershipRegistry(Path.Combine(directory, "file"), signer: destination)),
                ("etcd, 3 members, TLS", etcdSource, etcdDestination),
            };
            var samples = cases.ToDictionary(c => c.Name, _ => new List<double>());
            var ownCpu = cases.ToDictionary(c => c.Name, _ => TimeSpan.Zero);
            var etcdCpu = cases.ToDictionary(c => c.Name, _ => TimeSpan.Zero);
            var roundMedians = cases.ToDictionary(c => c.Name, _ => new List<double>());
            foreach (var c in cases)
            {
                await CommitAsync(c, "warmup", 20, []);
            }

            for (int round = 0; round < rounds; round++)
            {
                foreach (var c in round % 2 == 0 ? cases : cases.Reverse())
                {
                    TimeSpan own = Process.GetCurrentProcess().TotalProcessorTime;
                    TimeSpan etcd = BenchEtcd.Cpu(members);
                    var latencies = new List<double>();
                    await CommitAsync(c, $"r{round}", commits, latencies);
                    ownCpu[c.Name] += Process.GetCurrentProcess().TotalProcessorTime - own;
                    etcdCpu[c.Name] += BenchEtcd.Cpu(members) - etcd;
                    samples[c.Name].AddRange(latencies);
                    roundMedians[c.Name].Add(Samples.Percentile(latencies, 0.5));
                }
            }

            Console.WriteLine($"{rounds} rounds x {commits} commits per registry, alternated; signed records; CPU per commit");
            Console.WriteLine("| registry | median ms | p99 ms | min–max ms | round medians ms | CPU ms/commit, this process | CPU " +
                "ms/commit, etcd |");
            Console.WriteLine("|---|---:|---:|---|---|---:|---:|");
            foreach (var c in cases)
            {
                List<double> all = samples[c.Name];
                int total = all.Count;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {c.Name} | {Samples.Percentile(all, 0.5):0.00} | {Samples.Percentile(all, 0.99):0.00} | " +
                        $"{all.Min():0.00}–{all.Max():0.00} | " +
                    $"{string.Join(", ", roundMedians[c.Name].Select(m => m.ToString("0.00", CultureInfo.InvariantCulture)))} | " +
                    $"{ownCpu[c.Name].TotalMilliseconds / total:0.00} | {etcdCpu[c.Name].TotalMilliseconds / total:0.00} |"));
            }

            double[] ratios = [.. roundMedians[cases[1].Name].Zip(roundMedians[cases[0].Name], (e, f) => e / f)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"same-round median ratio etcd/file: " +
                    $"{ratios.Min():0.00}–{Samples.Percentile([.. ratios], 0.5):0.00}–{ratios.Max():0.00}; " +
                $"extra commit time on the stop→resume path: " +
                    $"{Samples.Percentile(samples[cases[1].Name], 0.5) - Samples.Percentile(samples[cases[0].Name], 0.5):0.00} ms"));
            return 0;
        }
        finally
        {
            members.ForEach(m => m.Dispose());
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task CommitAsync((string Name, IOwnershipRegistry Source, IOwnershipRegistry Destination) registry, string tag,
        int commits, List<double> latencies)
    {
        for (int i = 0; i < commits; i++)
        {
            string vm = $"vm-{tag}-{i}";
            await registry.Source.RegisterAsync(vm, Source);
            long started = Stopwatch.GetTimestamp();
            OwnershipMove move = await registry.Destination.TryMoveAsync(vm, 1, Source, Destination, Guid.NewGuid());
            if (move.Current?.Revision > 0 && (await registry.Destination.GetAsync(vm))?.Revision != move.Current.Revision)
            {
                // A registry with revisions: the destination re-reads its fencing token before its VM runs (ADR 0018).
                throw new InvalidOperationException($"The record of {vm} in the {registry.Name} moved past its commit.");
            }

            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (!move.Moved)
            {
                throw new InvalidOperationException($"The commit of {vm} in the {registry.Name} did not move the epoch.");
            }
        }
    }
}
