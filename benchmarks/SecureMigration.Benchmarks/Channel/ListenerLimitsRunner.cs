using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.Channel;
using SecureMigration.Channel.Limits;
using SecureMigration.Channel.Tickets;
using SecureMigration.Transport;

namespace SecureMigration.Benchmarks.Channel;

/// <summary>
/// What the listener's handshake limits (ADR 0011) cost, measured in one run: handshakes and a bulk transfer through
/// a <see cref="SecureChannelListener"/> (every limit checked, none refusing) against the same channel accepted on a
/// bare socket (no listener, no limits), in rounds whose order rotates; then the limiter's own decision, in-process.
/// </summary>
internal static class ListenerLimitsRunner
{
    private static readonly SecureChannelFactory Source =
        new(new SecureChannelOptions { Credentials = BenchmarkPki.Credentials(BenchmarkPki.Source) });

    private static readonly SecureChannelFactory Destination =
        new(new SecureChannelOptions { Credentials = BenchmarkPki.Credentials(BenchmarkPki.Destination) });

    /// <summary>Limits that check everything and refuse nothing the benchmark does (its handshakes come faster than 4 a second).</summary>
    private static readonly SecureChannelListenerOptions Limits = new()
    {
        HandshakesPerSecondPerPrefix = 100_000,
        HandshakeBurstPerPrefix = 100_000,
        KnownSources = { IPNetwork.Parse("10.0.0.0/8") },
    };

    public static async Task<int> RunAsync(string[] args)
    {
        long bytes = (args.Length > 0 ? long.Parse(args[0], CultureInfo.InvariantCulture) : 256) << 20;
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 9;
        int handshakes = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20;
        await using var listener = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), Destination, Limits);
        listener.Start();
        using var bare = new TcpListener(IPAddress.Loopback, 0);
        bare.Start();
        (string Name, Func<Task<(ChannelConnection Client, SecureChannel Server, IAsyncDisposable Owner)>> Open)[] cases =
        [
            ("through SecureChannelListener (limits on)", () => ThroughListenerAsync(listener)),
            ("bare accepted socket (no listener, no limits)", () => BareAsync(bare)),
        ];
        foreach ((_, var open) in cases)
        {
            await HandshakesAsync(open, 3);
            await TransferAsync(open, 16 << 20);
        }

        var latency = cases.ToDictionary(c => c.Name, _ => new List<double>());
        var throughput = cases.ToDictionary(c => c.Name, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            // The order rotates each round, so neither case always runs first on a machine whose speed drifts.
            foreach ((string name, var open) in cases.Skip(round % cases.Length).Concat(cases.Take(round % cases.Length)))
            {
                latency[name].Add(await HandshakesAsync(open, handshakes));
                throughput[name].Add(await TransferAsync(open, bytes));
            }
        }

        string limited = cases[0].Name;
        string baseline = cases[1].Name;
        Console.WriteLine($"Listener limits, {rounds} rounds (order rotated), {handshakes} handshakes and {bytes >> 20} MiB " +
            $"per case per round, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| case | handshake ms, median (min–max) | GiB/s, median (min–max) |");
        Console.WriteLine("|---|---:|---:|");
        foreach ((string name, _) in cases)
        {
            Console.WriteLine($"| {name} | {Spread(latency[name], "0.00")} | {Spread(throughput[name], "0.00")} |");
        }

        List<double> latencyRatios = [.. latency[limited].Select((ms, i) => ms / latency[baseline][i])];
        List<double> throughputRatios = [.. throughput[limited].Select((rate, i) => rate / throughput[baseline][i])];
        Console.WriteLine(
            $"| per-round ratio, limits on / no limits | {Spread(latencyRatios, "0.000")}× | {Spread(throughputRatios, "0.000")}× |");
        Console.WriteLine();
        Console.WriteLine($"HandshakeLimiter.TryEnter + Exit, in-process: {DecisionNanoseconds(sameSource: true):0} ns from one source, " +
            $"{DecisionNanoseconds(sameSource: false):0} ns from a new /24 each time (table full, idle prefixes swept once a second)");
        return 0;
    }

    private static async Task<(ChannelConnection, SecureChannel, IAsyncDisposable)> ThroughListenerAsync(SecureChannelListener listener)
    {
        ChannelConnection client = await Source.ConnectAsync(listener.LocalEndPoint, Ticket());
        ChannelConnection server = (await listener.AcceptAsync())!;
        return (client, server.Channel, server);
    }

    private static async Task<(ChannelConnection, SecureChannel, IAsyncDisposable)> BareAsync(TcpListener bare)
    {
        Task<Socket> accepted = bare.AcceptSocketAsync();
        Task<ChannelConnection> client = Source.ConnectAsync(bare.LocalEndpoint, Ticket());
        StreamDuplexPipe wire = StreamDuplexPipe.Create(await accepted);
        SecureChannel server = await Destination.AcceptAsync(wire);
        return (await client, server, new Owned(server, wire));
    }

    /// <summary>Opens and closes <paramref name="count"/> channels one after another; returns the mean milliseconds per channel.</summary>
    private static async Task<double> HandshakesAsync(Func<Task<(ChannelConnection, SecureChannel, IAsyncDisposable)>> open, int count)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            (ChannelConnection client, _, IAsyncDisposable owner) = await open();
            await client.DisposeAsync();
            await owner.DisposeAsync();
        }

        return clock.Elapsed.TotalMilliseconds / count;
    }

    /// <summary>Moves <paramref name="bytes"/> over one channel in 64 KiB writes; returns GiB/s.</summary>
    private static async Task<double> TransferAsync(Func<Task<(ChannelConnection, SecureChannel, IAsyncDisposable)>> open, long bytes)
    {
        (ChannelConnection client, SecureChannel server, IAsyncDisposable owner) = await open();
        await using (client)
        await using (owner)
        {
            var clock = Stopwatch.StartNew();
            Task receive = Task.Run(async () =>
            {
                while (true)
                {
                    ReadResult result = await server.Input.ReadAsync();
                    server.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        return;
                    }
                }
            });
            byte[] chunk = new byte[ThroughputRunner.WriteSize];
            for (long sent = 0; sent < bytes; sent += chunk.Length)
            {
                await client.Channel.Output.WriteAsync(chunk);
            }

            await client.Channel.Output.CompleteAsync();
            await receive;
            return bytes / clock.Elapsed.TotalSeconds / (1L << 30);
        }
    }

    private static double DecisionNanoseconds(bool sameSource)
    {
        var limiter = new HandshakeLimiter(Limits, TimeProvider.System);
        const int Operations = 1_000_000;
        IPAddress[] sources = [.. Enumerable.Range(0, 8192).Select(i => new IPAddress([192, (byte)(i >> 8), (byte)i, 1]))];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Operations; i++)
        {
            if (limiter.TryEnter(sameSource ? IPAddress.Loopback : sources[i % sources.Length], out HandshakeSource source, out _))
            {
                limiter.Exit(source);
            }
        }

        return clock.Elapsed.TotalNanoseconds / Operations;
    }

    private static MigrationTicket Ticket() =>
        MigrationTicket.Create("bench-vm", BenchmarkPki.SourceName, BenchmarkPki.DestinationName, 1, TimeSpan.FromMinutes(1));

    private static string Spread(List<double> values, string format)
    {
        List<double> sorted = [.. values.Order()];
        double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture,
            $"{median.ToString(format, CultureInfo.InvariantCulture)} ({sorted[0].ToString(format, CultureInfo.InvariantCulture)}–" +
            $"{sorted[^1].ToString(format, CultureInfo.InvariantCulture)})");
    }

    private sealed class Owned(SecureChannel channel, StreamDuplexPipe wire) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await channel.DisposeAsync();
            await wire.DisposeAsync();
        }
    }
}
