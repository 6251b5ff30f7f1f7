using System.Diagnostics;
using System.Globalization;
using SecureMigration.Benchmarks.Statistics;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>
/// The reproducible loopback throughput command: every transport moves the same bytes with the same
/// 64 KiB writes, in the same run, several times; the table shows medians and the ratio to SslStream.
/// </summary>
internal static class ThroughputRunner
{
    public const int WriteSize = 64 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        long bytes = (args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 2048) * 1024 * 1024;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        string filter = args.Length > 2 ? args[2] : string.Empty;
        List<ITransportCase> all = [new RawTcpCase(), new SslStreamCase(), new SecureChannelCase(), new InProcessAesGcmCase(),
            .. ExternalTunnelCase.Available()];
        ITransportCase[] cases = [.. all.Where(c => c is SslStreamCase || c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))];
        if (SecmigBinary.Find() is null)
        {
            Console.Error.WriteLine("Build the tool first (dotnet build -c Release src/SecureMigration.Cli) to include the secmig tunnel " +
                "pair.");
        }

        // Rounds are interleaved (every case once per round) so slow drift of a shared machine hits all cases
        // alike; ratios are taken per round against the baseline of the same round, then the median is reported.
        var samples = cases.ToDictionary(c => c.Name, _ => new List<double>());
        var ratios = cases.ToDictionary(c => c.Name, _ => new List<double>());
        var cpu = cases.ToDictionary(c => c.Name, _ => new List<double>());
        foreach (ITransportCase transport in cases)
        {
            await transport.MoveAsync(WriteSize * 256L); // warm-up: JIT, handshake code paths, socket buffers
        }

        for (int round = 0; round < rounds; round++)
        {
            var thisRound = new Dictionary<string, double>();
            foreach (ITransportCase transport in cases)
            {
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                await transport.MoveAsync(bytes);
                thisRound[transport.Name] = bytes / clock.Elapsed.TotalSeconds / (1L << 30);
                double gib = bytes / (double)(1L << 30);
                cpu[transport.Name].Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / gib);
                samples[transport.Name].Add(thisRound[transport.Name]);
            }

            foreach ((string name, double rate) in thisRound)
            {
                ratios[name].Add(rate / thisRound[SslStreamCase.CaseName]);
            }
        }

        var medians = samples.ToDictionary(p => p.Key, p => Samples.Median(p.Value));
        foreach ((string name, List<double> values) in samples)
        {
            Console.Error.WriteLine($"{name}: {string.Join(", ", values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)))} " +
                $"GiB/s");
        }

        Console.WriteLine($"Loopback throughput, {bytes >> 20} MiB per case per round, {WriteSize >> 10} KiB writes, {rounds} " +
            $"interleaved rounds, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| transport | median GiB/s | median ratio to SslStream (same round) | CPU seconds per GiB, this process |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach ((string name, double median) in medians)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {median:0.00} | " +
                $"{Samples.Median(ratios[name]):0.00}× | " +
                $"{Samples.Median(cpu[name]):0.00} |"));
        }

        // The tunnel target is head to head: the secmig pair over each external pair, per round.
        foreach (string tunnel in samples.Keys.Where(n => n.StartsWith("secmig tunnel", StringComparison.Ordinal)))
        {
            foreach (string other in samples.Keys.Where(n => n.Contains("pair (two processes, OpenSSL)", StringComparison.Ordinal)))
            {
                List<double> ours = samples[tunnel];
                List<double> theirs = samples[other];
                double ratio = Samples.Median([.. ours.Select((rate, i) => rate / theirs[i])]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{tunnel} against {other}: {ratio:0.00}× per round (median), faster in " +
                        $"{ours.Where((rate, i) => rate > theirs[i]).Count()} of {ours.Count} rounds"));
            }
        }

        foreach (IDisposable disposable in all.OfType<IDisposable>())
        {
            disposable.Dispose();
        }

        return 0;
    }
}

internal interface ITransportCase
{
    string Name { get; }

    Task MoveAsync(long bytes);
}
