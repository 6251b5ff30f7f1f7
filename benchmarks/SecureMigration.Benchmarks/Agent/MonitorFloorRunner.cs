using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using SecureMigration.Benchmarks.Migration;
using SecureMigration.Benchmarks.Statistics;
using SecureMigration.Qemu.Qmp;
using SecureMigration.TestGuests;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>
/// The floor under a warm migration's start beside real QEMU (issue 19): the monitor commands the two agents cannot do
/// without before QEMU's <c>migrate</c>, sent by one process that does nothing else, in the agents' order and with their
/// overlap: the source's state; the destination's checks (state and migration, together); its readying (<c>stop</c> with
/// the events capability, then <c>migrate-incoming</c>), while the source's checks and settings run; then the source's
/// <c>migrate</c> (to the destination's socket directly). Each round starts a guest pair as <c>agent-latency</c> does and waits
/// the same before it. What this takes no change to the agents removes from the API call → <c>migrate</c> interval; the API's
/// HTTP, the ticket's exchange, the checkpoints and the registry's reads come on top.
/// </summary>
internal static class MonitorFloorRunner
{
    private const int MemoryMiB = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 11;
        string directory = Directory.CreateTempSubdirectory("secmig-monitor-floor-").FullName;
        try
        {
            var context = new MigrationBenchmarkContext(directory, await GuestImage.BuildAsync(Path.Combine(directory, "guest")),
                MemoryMiB, rounds + 1);
            var chains = new List<double>();
            var readied = new List<double>();
            for (int round = 0; round <= rounds; round++)
            {
                (double destinationReady, double migrate) = await RoundAsync(context, $"floor{round}");
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: destination ready {destinationReady:0.0} ms, migrate answered {migrate:0.0} ms"));
                if (round > 0)
                {
                    readied.Add(destinationReady);
                    chains.Add(migrate);
                }
            }

            Console.WriteLine($"Monitor commands before QEMU's migrate, one client, {rounds} rounds after a warm-up, {MemoryMiB} MiB TCG " +
                $"guests; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
            Console.WriteLine();
            Console.WriteLine("| interval | median ms | min ms | max ms |");
            Console.WriteLine("|---|---:|---:|---:|");
            Row("first command → destination ready (5 commands, 3 round trips)", readied);
            Row("first command → source's migrate answered", chains);
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Row(string name, List<double> values) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {Samples.Median(values):0.0} | {values.Min():0.0} | {values.Max():0.0} |"));

    private static async Task<(double DestinationReady, double Migrate)> RoundAsync(MigrationBenchmarkContext context, string vm)
    {
        GuestQemu source = context.Source(vm);
        GuestQemu destination = context.Destination(vm, paused: true);
        int[] pids = [await source.StartAsync(context.Image), await destination.StartAsync(context.Image)];
        try
        {
            await using QmpClient from = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(source.TestMonitor));
            await using QmpClient to = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(destination.TestMonitor));
            await GuestQemu.WaitUntilFilledAsync(from, TimeSpan.FromMinutes(5));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            string incoming = Path.Combine(context.Directory, vm + "-in.sock");

            var clock = Stopwatch.StartNew();
            await from.ExecuteAsync("query-status");
            Task sourceReady = ReadySourceAsync(from);
            await Task.WhenAll(to.ExecuteAsync("query-status"), to.ExecuteAsync("query-migrate"));
            await Task.WhenAll(to.ExecuteAsync("stop"), EnableEventsAsync(to));
            await to.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = "unix:" + incoming });
            double destinationReady = clock.Elapsed.TotalMilliseconds;
            await sourceReady;
            await from.ExecuteAsync("migrate", new JsonObject { ["uri"] = "unix:" + incoming });
            double migrate = clock.Elapsed.TotalMilliseconds;

            // The guests are killed after the migration ended, as a migrating QEMU is not, so the next round starts alike.
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while ((await from.ExecuteAsync("query-migrate", cancellationToken: patience.Token)).TryGetProperty("status",
                out var status) && status.GetString() is "setup" or "active" or "device" or "pre-switchover")
            {
                await Task.Delay(50, patience.Token);
            }

            return (destinationReady, migrate);
        }
        finally
        {
            await AgentLatencyRunner.KillAsync(pids);
        }
    }

    private static Task EnableEventsAsync(QmpClient qmp) => qmp.ExecuteAsync("migrate-set-capabilities", new JsonObject
    {
        ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "events", ["state"] = true }),
    });

    /// <summary>The source's checks, then its settings, as the QEMU driver sends them.</summary>
    private static async Task ReadySourceAsync(QmpClient source)
    {
        await Task.WhenAll(source.ExecuteAsync("query-status"), source.ExecuteAsync("query-migrate"));
        await Task.WhenAll(EnableEventsAsync(source),
            source.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 64L * 1024 * 1024 * 1024 }));
    }
}
