using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Statistics;
using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>
/// A burst of migration requests through one agent's control API (issue 19): N requests at once (200) for N served VMs whose QEMU
/// is not there, so each is refused by the coordinator once it leaves the queue (the host's outbound cap is 2). Meanwhile a
/// separate caller asks <c>GET /v1/health</c> and <c>GET /v1/migrations</c> every 20 ms: how long the API takes to answer while
/// the burst is served, and whether every request ended exactly once.
/// </summary>
internal static class AgentLoadRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        if (SecmigBinary.Find() is not { } secmig)
        {
            Console.Error.WriteLine("Build the tool first: dotnet build -c Release src/SecureMigration.Cli");
            return 2;
        }

        string directory = Directory.CreateTempSubdirectory("secmig-agent-load-").FullName;
        try
        {
            BenchmarkPki.WriteFiles(Path.Combine(directory, "pki"));
            string[] vms = [.. Enumerable.Range(1, requests).Select(i => $"vm{i}")];
            string work = Path.Combine(directory, "work");
            (BackgroundProcess agent, _) = await BackgroundProcess.StartAsync(new SecmigTool(secmig, []).AsAgentService().Command(
                ["agent", "--listen", "127.0.0.1:0",
                    .. vms.SelectMany(vm => new[] { "--vm",
                    $"{vm}={Path.Combine(directory, "absent", vm + ".qmp")}" }), "--work", work, "--registry",
                    Path.Combine(directory, "ownership"), .. BenchmarkPki.Arguments(Path.Combine(directory, "pki"), "source")]),
                "control ");
            using BackgroundProcess owned = agent;
            using HttpClient burst = AgentLatencyRunner.UnixSocketClient(Path.Combine(work, "control.sock"), connections: 16);
            using HttpClient probe = AgentLatencyRunner.UnixSocketClient(Path.Combine(work, "control.sock"), connections: 1);
            await probe.GetStringAsync("/v1/health");
            // A warm agent: a small burst first, not measured (the VMs may be asked again: a refused migration leaves nothing).
            await EndAllAsync(burst, await AskAllAsync(burst, vms[..10]));

            using var done = new CancellationTokenSource();
            Task<List<double>> probing = ProbeAsync(probe, done.Token);
            var clock = Stopwatch.StartNew();
            string[] ids = await AskAllAsync(burst, vms);
            TimeSpan accepted = clock.Elapsed;
            string[] statuses = await EndAllAsync(burst, ids);
            TimeSpan ended = clock.Elapsed;
            await done.CancelAsync();
            List<double> latencies = await probing;
            using JsonDocument list = JsonDocument.Parse(await probe.GetStringAsync("/v1/migrations"));
            int listed = list.RootElement.GetArrayLength();

            Console.WriteLine($"{requests} migration requests at once through one agent's control API (outbound cap 2), " +
                $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all accepted in {accepted.TotalMilliseconds:0} ms, all ended " +
                $"in {ended.TotalMilliseconds:0} ms; {ids.Distinct().Count()} distinct ids, {listed} listed; outcomes: " +
                $"{string.Join(", ", statuses.GroupBy(status => status).Select(group => $"{group.Count()} {group.Key}"))}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"API answers during the burst ({latencies.Count} probes of " +
                $"health + list): median {Samples.Median(latencies):0.0} ms, p99 {Samples.Percentile(latencies, 0.99):0.0} ms, max " +
                $"{latencies.Max():0.0} ms; target ≤ 50 ms throughout: {(latencies.Max() <= 50 ? "met" : "MISSED")}"));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static Task<string[]> AskAllAsync(HttpClient api, IEnumerable<string> vms) => Task.WhenAll(vms.Select(async vm =>
    {
        using HttpResponseMessage posted = await api.PostAsJsonAsync("/v1/migrations", new { vm, to = "127.0.0.1:9",
            peerName = BenchmarkPki.DestinationName, retries = 0 });
        using JsonDocument started = JsonDocument.Parse(await posted.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        return started.RootElement.GetProperty("id").GetString()!;
    }));

    /// <summary>Follows each migration to its end; returns each outcome's status ("(no reason)" added where it gave none).</summary>
    private static Task<string[]> EndAllAsync(HttpClient api, IEnumerable<string> ids) => Task.WhenAll(ids.Select(async id =>
    {
        while (true)
        {
            using JsonDocument view = JsonDocument.Parse(await api.GetStringAsync($"/v1/migrations/{id}?after=100000&wait=10"));
            if (view.RootElement.GetProperty("outcome") is { ValueKind: JsonValueKind.Object } outcome)
            {
                return outcome.GetProperty("status").GetString() + (outcome.GetProperty("reason").GetString() is { Length: > 0 }
                    ? "" : " (no reason)");
            }
        }
    }));

    private static async Task<List<double>> ProbeAsync(HttpClient probe, CancellationToken done)
    {
        var latencies = new List<double>();
        while (!done.IsCancellationRequested)
        {
            var asked = Stopwatch.StartNew();
            await probe.GetStringAsync(latencies.Count % 2 == 0 ? "/v1/health" : "/v1/migrations", CancellationToken.None);
            latencies.Add(asked.Elapsed.TotalMilliseconds);
            try
            {
                await Task.Delay(20, done);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return latencies;
    }
}
