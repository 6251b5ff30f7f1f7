using System.Diagnostics;
using System.Globalization;
using SecureMigration.Coordination;
using SecureMigration.Benchmarks.Statistics;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Benchmarks.Coordination;

/// <summary>
/// Where a migration's fixed cost goes without a hypervisor's: the in-process pair of <see cref="MigrationFixedCostBenchmarks"/>
/// (real TLS over loopback, fsynced journals and audit logs, the file registry, a 64 KiB stream from a hypervisor that
/// costs nothing) migrates a VM again and again; each side's phases are stamped as they are reported, from the call.
/// Prints each phase's median and spread, in the order of the medians. Usage:
/// <c>dotnet run -c Release -- coordination-phases [rounds]</c>.
/// </summary>
internal static class PhaseTimelineRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var bench = new MigrationFixedCostBenchmarks { FlushBytes = 256 * 1024 };
        bench.Setup();
        try
        {
            var stamps = new Dictionary<string, List<double>>();
            for (int round = -5; round < rounds; round++)
            {
                long start = Stopwatch.GetTimestamp();
                var source = new PhaseStamps(start);
                var destination = new PhaseStamps(start);
                await bench.CoordinatedAsync(source, destination);
                double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (round < 0)
                {
                    continue; // warm-up: JIT and the first handshakes
                }

                foreach ((string side, PhaseStamps phases) in new[] { ("source", source), ("destination", destination) })
                {
                    foreach ((MigrationPhase phase, double ms) in phases.First)
                    {
                        Add(stamps, $"{side} {phase}", ms);
                    }
                }

                Add(stamps, "both returned", total);
            }

            Console.WriteLine($"In-process migration, 64 KiB stream, {rounds} rounds after 5 warm-ups; ms from the call " +
                "(which registers the VM first)");
            Console.WriteLine("| phase reported | median ms | min | max |\n|---|---:|---:|---:|");
            foreach ((string name, List<double> values) in stamps.OrderBy(s => Samples.Median(s.Value)))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {Samples.Median(values):0.00} | {values.Min():0.00} | {values.Max():0.00} |"));
            }
        }
        finally
        {
            bench.Cleanup();
        }

        return 0;
    }

    private static void Add(Dictionary<string, List<double>> stamps, string name, double ms) =>
        (stamps.TryGetValue(name, out List<double>? list) ? list : stamps[name] = []).Add(ms);

    /// <summary>Records, synchronously, when each phase was first reported.</summary>
    private sealed class PhaseStamps(long start) : IProgress<MigrationProgress>
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<MigrationPhase, double> _first = [];

        public IReadOnlyList<(MigrationPhase Phase, double Ms)> First
        {
            get
            {
                lock (_gate)
                {
                    return [.. _first.Select(p => (p.Key, p.Value))];
                }
            }
        }

        public void Report(MigrationProgress value)
        {
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            lock (_gate)
            {
                _first.TryAdd(value.Phase, ms);
            }
        }
    }
}
