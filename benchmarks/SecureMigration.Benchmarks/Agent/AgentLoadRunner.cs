using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Statistics;
using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>
/// Bursts of migration requests through one agent's control API (issue 19): N requests at once (200) for N served VMs whose QEMU
/// is not there, so each is refused by the coordinator once it leaves the queue (the host's outbound cap is 2), several bursts in a
/// row after a small warm-up. Meanwhile a separate caller asks <c>GET /v1/health</c> and <c>GET /v1/migrations</c> every 20 ms:
/// how long the API takes to answer while each burst is served, and whether every request ended exactly once. The caller runs on
/// a thread of its own with blocking calls, as another process would: sharing the burst's thread pool, its answers would wait
/// behind this runner's own handling of 200 answers and follows (10-20 ms more, measured).
/// </summary>
internal static class AgentLoadRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        int requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        int bursts = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        int warmUp = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
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
            long starting = Stopwatch.GetTimestamp();
            (BackgroundProcess agent, _) = await BackgroundProcess.StartAsync(new SecmigTool(secmig, []).AsAgentService().Command(
                ["agent", "--listen", "127.0.0.1:0",
                    .. vms.SelectMany(vm => new[] { "--vm",
                    $"{vm}={Path.Combine(directory, "absent", vm + ".qmp")}" }), "--work", work, "--registry",
                    Path.Combine(directory, "ownership"), .. BenchmarkPki.Arguments(Path.Combine(directory, "pki"), "source")]),
                "control ");
            TimeSpan startUp = Stopwatch.GetElapsedTime(starting);
            using BackgroundProcess owned = agent;
            using HttpClient burst = AgentLatencyRunner.UnixSocketClient(Path.Combine(work, "control.sock"), connections: 16);
            using HttpClient probe = AgentLatencyRunner.UnixSocketClient(Path.Combine(work, "control.sock"), connections: 1);
            probe.Send(new HttpRequestMessage(HttpMethod.Get, "/v1/health")).Dispose();
            // A small burst first, not measured (the VMs may be asked again: a refused migration leaves nothing); 0 asks the agent
            // as it is when it says it is ready.
            await EndAllAsync(burst, await AskAllAsync(burst, vms[..Math.Min(warmUp, requests)]));

            Console.WriteLine($"{requests} migration requests at once through one agent's control API (outbound cap 2), {bursts} " +
                $"bursts in a row after a warm-up of {warmUp}; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"agent started (its control socket announced) in {startUp.TotalMilliseconds:0} ms"));
            Console.WriteLine();
            bool met = true;
            for (int round = 1; round <= bursts; round++)
            {
                met &= await BurstAsync(round, burst, probe, vms, agent.Id);
            }

            Console.WriteLine($"target ≤ 50 ms throughout every burst: {(met ? "met" : "MISSED")}");
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>One burst with the probe running; prints its line and returns whether every probe was answered within 50 ms.</summary>
    private static async Task<bool> BurstAsync(int round, HttpClient burst, HttpClient probe, string[] vms, int agentPid)
    {
        using var done = new CancellationTokenSource();
        var latencies = new List<double>();
        var probing = new Thread(() => Probe(probe, latencies, done.Token)) { IsBackground = true, Name = "probe" };
        double cpuBefore = ProcFiles.Seconds(agentPid) ?? 0;
        var clock = Stopwatch.StartNew();
        probing.Start();
        string[] ids = await AskAllAsync(burst, vms);
        TimeSpan accepted = clock.Elapsed;
        double cpuAccepting = (ProcFiles.Seconds(agentPid) ?? 0) - cpuBefore;
        string[] statuses = await EndAllAsync(burst, ids);
        TimeSpan ended = clock.Elapsed;
        await done.CancelAsync();
        probing.Join();
        using JsonDocument list = JsonDocument.Parse(await burst.GetStringAsync("/v1/migrations"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"burst {round}: all accepted in {accepted.TotalMilliseconds:0} ms " +
            $"(agent CPU {cpuAccepting * 1000:0} ms), all ended in {ended.TotalMilliseconds:0} ms; {ids.Distinct().Count()} distinct " +
            $"ids, {list.RootElement.GetArrayLength()} listed; outcomes: " +
            $"{string.Join(", ", statuses.GroupBy(status => status).Select(group => $"{group.Count()} {group.Key}"))}; API answers " +
            $"({latencies.Count} probes of health + list): median {Samples.Median(latencies):0.0} ms, p99 " +
            $"{Samples.Percentile(latencies, 0.99):0.0} ms, max {latencies.Max():0.0} ms"));
        return latencies.Max() <= 50;
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

    /// <summary>Asks health and the list in turn, every 20 ms, until <paramref name="done"/>; adds each answer's time (ms).</summary>
    private static void Probe(HttpClient probe, List<double> latencies, CancellationToken done)
    {
        while (!done.IsCancellationRequested)
        {
            var asked = Stopwatch.StartNew();
            using (HttpResponseMessage answer = probe.Send(new HttpRequestMessage(HttpMethod.Get,
                latencies.Count % 2 == 0 ? "/v1/health" : "/v1/migrations")))
            {
                answer.EnsureSuccessStatusCode().Content.ReadAsStream().CopyTo(Stream.Null);
            }

            latencies.Add(asked.Elapsed.TotalMilliseconds);
            done.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(20));
        }
    }
}
