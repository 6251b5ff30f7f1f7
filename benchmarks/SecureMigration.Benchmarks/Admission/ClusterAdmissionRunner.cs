using System.Diagnostics;
using System.Globalization;
using SecureMigration.Admission;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Etcd;
using SecureMigration.Testing.Pki;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Admission;

/// <summary>
/// Admission decisions per second: three orchestrators (each its own etcd connection and session lease, as three
/// processes would have) deciding at once through a three-member etcd cluster with TLS on loopback, against the local
/// controller alone (the per-VM fast path, no round trip), in the same run, alternating which goes first each round. A
/// decision is an admission and the release of its slots (the migration's end).
/// Run: <c>dotnet run -c Release -- cluster-admission [ROUNDS] [DECISIONS]</c>.
/// </summary>
internal static class ClusterAdmissionRunner
{
    private const int Orchestrators = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 4;
        int decisions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
        string directory = Directory.CreateTempSubdirectory("secmig-bench-admission-").FullName;
        using CertificateAuthority ca = CertificateAuthority.Create("Admission bench CA");
        var members = new List<BackgroundProcess>();
        try
        {
            string endpoints = await BenchEtcd.StartAsync(ca, directory, members);
            EtcdOwnershipRegistry[] cluster = [.. Enumerable.Range(0, Orchestrators).Select(i =>
                new EtcdOwnershipRegistry(EtcdRegistryOptions.Parse(endpoints, BenchEtcd.Credentials(ca, $"h{i}.bench"))))];
            var options = new AdmissionOptions { MaxConcurrentMigrations = 100, MaxOutboundPerHost = 10, MaxInboundPerHost = 10,
                MinDwellTime = TimeSpan.Zero, ManualPerMinute = 1e6 };
            var cases = new (string Name, Func<int, string, List<double>, Task> Decide)[]
            {
                ("local controller (fast path)", (i, tag, latencies) => DecideLocallyAsync(new AdmissionController(options), i, tag,
                    decisions, latencies)),
                ($"etcd, {Orchestrators} orchestrators at once", (i, tag, latencies) => DecideInClusterAsync(cluster[i], options, i, tag,
                    decisions, latencies)),
            };
            foreach (var c in cases)
            {
                await RunCaseAsync(c.Decide, "warmup", []);
            }

            var perSecond = cases.ToDictionary(c => c.Name, _ => new List<double>());
            var samples = cases.ToDictionary(c => c.Name, _ => new List<double>());
            var ownCpu = cases.ToDictionary(c => c.Name, _ => TimeSpan.Zero);
            var etcdCpu = cases.ToDictionary(c => c.Name, _ => TimeSpan.Zero);
            for (int round = 0; round < rounds; round++)
            {
                foreach (var c in round % 2 == 0 ? cases : cases.Reverse())
                {
                    TimeSpan own = Process.GetCurrentProcess().TotalProcessorTime, etcd = BenchEtcd.Cpu(members);
                    var latencies = new List<double>();
                    long started = Stopwatch.GetTimestamp();
                    await RunCaseAsync(c.Decide, $"r{round}", latencies);
                    perSecond[c.Name].Add(Orchestrators * decisions / Stopwatch.GetElapsedTime(started).TotalSeconds);
                    ownCpu[c.Name] += Process.GetCurrentProcess().TotalProcessorTime - own;
                    etcdCpu[c.Name] += BenchEtcd.Cpu(members) - etcd;
                    samples[c.Name].AddRange(latencies);
                }
            }

            int total = rounds * Orchestrators * decisions;
            Console.WriteLine($"{rounds} rounds x {Orchestrators} orchestrators x {decisions} decisions (admit + release), alternated");
            Console.WriteLine("| admission | decisions/s (round min–median–max) | median ms | p99 ms | CPU µs/decision, this process | " +
                "CPU µs/decision, etcd |");
            Console.WriteLine("|---|---|---:|---:|---:|---:|");
            foreach (var c in cases)
            {
                List<double> rates = perSecond[c.Name];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {c.Name} | {rates.Min():0}–{Samples.Percentile(rates, 0.5):0}–{rates.Max():0} | " +
                        $"{Samples.Percentile(samples[c.Name], 0.5):0.000} | " +
                    $"{Samples.Percentile(samples[c.Name], 0.99):0.000} | {ownCpu[c.Name].TotalMicroseconds / total:0.0} | " +
                    $"{etcdCpu[c.Name].TotalMicroseconds / total:0.0} |"));
            }

            foreach (EtcdOwnershipRegistry registry in cluster)
            {
                registry.Dispose();
            }

            return 0;
        }
        finally
        {
            members.ForEach(m => m.Dispose());
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task RunCaseAsync(Func<int, string, List<double>, Task> decide, string tag, List<double> latencies)
    {
        var each = Enumerable.Range(0, Orchestrators).Select(_ => new List<double>()).ToArray();
        return Task.WhenAll(Enumerable.Range(0, Orchestrators).Select(i => Task.Run(() => decide(i, tag, each[i]))))
            .ContinueWith(_ => latencies.AddRange(each.SelectMany(l => l)), TaskScheduler.Default);
    }

    private static Task DecideLocallyAsync(AdmissionController controller, int orchestrator, string tag, int decisions,
        List<double> latencies)
    {
        for (int d = 0; d < decisions; d++)
        {
            long started = Stopwatch.GetTimestamp();
            AdmissionDecision decision = controller.TryAdmit(Request(orchestrator, tag, d));
            if (!decision.IsAdmitted)
            {
                throw new InvalidOperationException("The local controller denied a benchmark decision: " + decision.Message);
            }

            decision.Lease.Complete(MigrationOutcome.Failed);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        return Task.CompletedTask;
    }

    private static async Task DecideInClusterAsync(EtcdOwnershipRegistry registry, AdmissionOptions options, int orchestrator, string tag,
        int decisions, List<double> latencies)
    {
        for (int d = 0; d < decisions; d++)
        {
            long started = Stopwatch.GetTimestamp();
            ClusterAdmissionDecision decision = await registry.TryAdmitAsync(Request(orchestrator, tag, d), options);
            if (!decision.IsAdmitted)
            {
                throw new InvalidOperationException("The cluster denied a benchmark decision: " + decision.Denial.Message);
            }

            await decision.CompleteAsync(MigrationOutcome.Failed);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static MigrationRequest Request(int orchestrator, string tag, int decision) =>
        new($"vm-{tag}-{orchestrator}-{decision}", $"h{orchestrator}.bench", $"d{decision % 5}.bench", MigrationTrigger.Manual);
}
