using System.Diagnostics;
using System.Globalization;

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
        ITransportCase[] cases = [new RawTcpCase(), new SslStreamCase(), new SecureChannelCase(), new InProcessAesGcmCase(), .. ExternalTunnelCase.Available()];
        var medians = new Dictionary<string, double>();
        foreach (ITransportCase transport in cases)
        {
            await transport.MoveAsync(WriteSize * 256L); // warm-up: JIT, handshake code paths, socket buffers
            var samples = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                var clock = Stopwatch.StartNew();
                await transport.MoveAsync(bytes);
                samples.Add(bytes / clock.Elapsed.TotalSeconds / (1L << 30));
            }

            samples.Sort();
            medians[transport.Name] = samples[samples.Count / 2];
            Console.Error.WriteLine($"{transport.Name}: {string.Join(", ", samples.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))} GiB/s");
        }

        double baseline = medians[SslStreamCase.CaseName];
        Console.WriteLine($"Loopback throughput, {bytes >> 20} MiB per round, {WriteSize >> 10} KiB writes, median of {rounds} rounds, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| transport | GiB/s | ratio to SslStream |");
        Console.WriteLine("|---|---:|---:|");
        foreach ((string name, double median) in medians)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {median:0.00} | {median / baseline:0.00}× |"));
        }

        return 0;
    }
}

internal interface ITransportCase
{
    string Name { get; }

    Task MoveAsync(long bytes);
}
