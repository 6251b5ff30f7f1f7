using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using SecureMigration.Benchmarks.Migration;
using SecureMigration.Benchmarks.Statistics;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.Qemu.Qmp;
using SecureMigration.TestGuests;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>
/// The fixed cost of a migration asked of a warm agent (issue 19): a source agent and a destination agent run for the whole run;
/// each round starts a small guest pair, asks the source agent's control API to migrate it, and follows the migration's lines
/// with long polls, each line stamped when it reaches the caller. Reported per round: the API's answer, the call to the
/// <c>Transferring</c> phase (QEMU's <c>migrate</c> comes right after it), the handshake with the ticket (<c>PreHooksDone</c> to
/// <c>ChannelOpen</c>) and the commit (<c>SwitchingOver</c> to <c>Committed</c>). Round 0 warms both agents and is not counted.
/// Then the same pair carries one migration alone and <c>concurrent</c> (8) asked at once: the bytes per second of each, and
/// the most that ran at once (the host's outbound cap is 2; the rest wait in the agent's queue).
/// </summary>
internal static class AgentLatencyRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
        int memoryMiB = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        int concurrent = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        if (SecmigBinary.Find() is not { } secmig)
        {
            Console.Error.WriteLine("Build the tool first: dotnet build -c Release src/SecureMigration.Cli");
            return 2;
        }

        string directory = Directory.CreateTempSubdirectory("secmig-agent-latency-").FullName;
        try
        {
            var context = new MigrationBenchmarkContext(directory, await GuestImage.BuildAsync(Path.Combine(directory, "guest")),
                memoryMiB, rounds + 1);
            BenchmarkPki.WriteFiles(context.Credentials);
            string[] vms = [.. Enumerable.Range(0, rounds + 1).Select(round => $"vm{round}"), "alone",
                .. Enumerable.Range(1, concurrent).Select(i => $"many{i}")];
            // A variant B of the tool (another build) in the same run, its own agent pair and guests, the rounds alternating which
            // of the two goes first.
            string? other = Environment.GetEnvironmentVariable("SECMIG_B_BINARY") is { Length: > 0 } b ? Path.GetFullPath(b) : null;
            // SECMIG_B_GUESTS=idle runs B's guests' QEMU threads at SCHED_IDLE: with B the same tool, the rounds then say what the
            // fixed cost is when the agents need not wait for a core the guests' vCPUs hold (a host whose vCPUs have cores of
            // their own).
            bool idleGuestsB = Environment.GetEnvironmentVariable("SECMIG_B_GUESTS") == "idle";
            await using AgentPair pair = await AgentPair.StartAsync(context, secmig, "a", vms);
            await using AgentPair? pairB = other is null ? null
                : await AgentPair.StartAsync(context, other, "b", [.. Enumerable.Range(0, rounds + 1).Select(round => $"b{round}")]);
            HttpClient api = pair.Api;
            string to = pair.To;
            var samples = new List<AgentLatencySample>();
            var samplesB = new List<AgentLatencySample>();
            for (int round = 0; round <= rounds; round++)
            {
                bool bFirst = pairB is not null && round % 2 == 1;
                for (int turn = 0; turn < (pairB is null ? 1 : 2); turn++)
                {
                    bool isB = bFirst == (turn == 0) && pairB is not null;
                    AgentPair running = isB ? pairB! : pair;
                    AgentLatencySample sample = await RoundAsync(context, running.Api, isB ? $"b{round}" : vms[round], running.To,
                        idleGuests: isB && idleGuestsB);
                    Console.Error.WriteLine((isB ? "B " : pairB is null ? "" : "A ") + sample.Describe(round));
                    if (round > 0)
                    {
                        (isB ? samplesB : samples).Add(sample);
                    }
                }
            }

            Report(samples, memoryMiB, pairB is null ? null : "A: " + secmig);
            if (pairB is not null)
            {
                Report(samplesB, memoryMiB, "B: " + other + (idleGuestsB ? " (guests at SCHED_IDLE)" : string.Empty));
            }

            // One alone beside as many running guests as the concurrent run has, so both carry the same load of vCPUs.
            AgentThroughput alone = await ConcurrentAsync(context, api, ["alone"], to, bystanders: concurrent - 1);
            string[] many = [.. vms.Where(vm => vm.StartsWith("many", StringComparison.Ordinal))];
            AgentThroughput together = await ConcurrentAsync(context, api, many, to, bystanders: 0);
            Console.WriteLine();
            Console.WriteLine("| migrations asked at once | MiB moved | wall s | MiB/s | most running at once |");
            Console.WriteLine("|---:|---:|---:|---:|---:|");
            Console.WriteLine(alone.Row());
            Console.WriteLine(together.Row());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Target: {concurrent} at once obey the cap (2) and move at " +
                $"least the bytes per second of one: {together.MostAtOnce} at once, " +
                $"{together.MiBPerSecond / alone.MiBPerSecond:0.00}× " +
                $"{(together.MostAtOnce <= 2 && together.MiBPerSecond >= alone.MiBPerSecond ? "met" : "MISSED")}"));
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>More than the agent's interval between looks for a served VM's monitor, so each round starts warm.</summary>
    private static readonly TimeSpan KeepConnectedLook = TimeSpan.FromSeconds(1.5);

    private static async Task<AgentLatencySample> RoundAsync(MigrationBenchmarkContext context, HttpClient api, string vm, string to,
        bool idleGuests)
    {
        GuestQemu source = context.Source(vm);
        GuestQemu destination = context.Destination(vm, paused: true);
        int[] pids = [await source.StartAsync(context.Image), await destination.StartAsync(context.Image)];
        try
        {
            if (idleGuests)
            {
                foreach (int pid in pids)
                {
                    // Every thread, and the threads QEMU starts later (its migration thread) inherit it.
                    using Process chrt = Process.Start("chrt", ["--idle", "--all-tasks", "--pid", "0", pid.ToString(CultureInfo.InvariantCulture)]);
                    await chrt.WaitForExitAsync();
                    if (chrt.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"chrt --idle failed for QEMU {pid} (exit {chrt.ExitCode}).");
                    }
                }
            }

            // How long the guest's QEMU takes to answer one monitor command while its vCPU runs: the agent asks it several.
            TimeSpan qmpAnswer;
            await using (QmpClient qmp = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(source.TestMonitor)))
            {
                await GuestQemu.WaitUntilFilledAsync(qmp, TimeSpan.FromMinutes(5));
                var asked = Stopwatch.StartNew();
                for (int i = 0; i < 10; i++)
                {
                    await qmp.ExecuteAsync("query-status");
                }

                qmpAnswer = asked.Elapsed / 10;
            }

            // A warm agent has its VM's monitor open: it looks every second for a served VM whose QEMU it has not reached
            // (QemuDriver.KeepConnectedAsync), and this round's QEMU has only just started.
            await Task.Delay(KeepConnectedLook);
            var clock = Stopwatch.StartNew();
            using HttpResponseMessage posted = await api.PostAsJsonAsync("/v1/migrations", new { vm, to,
                peerName = BenchmarkPki.DestinationName, retries = 0 });
            TimeSpan answered = clock.Elapsed;
            using JsonDocument started = JsonDocument.Parse(await posted.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            string id = started.RootElement.GetProperty("id").GetString()!;
            var lines = new List<(TimeSpan At, string Line)>();
            int next = 0;
            while (true)
            {
                using JsonDocument view = JsonDocument.Parse(await api.GetStringAsync($"/v1/migrations/{id}?after={next}&wait=10"));
                TimeSpan at = clock.Elapsed;
                lines.AddRange(view.RootElement.GetProperty("lines").EnumerateArray().Select(line => (at, line.GetString()!)));
                next = view.RootElement.GetProperty("next").GetInt32();
                if (view.RootElement.TryGetProperty("outcome", out JsonElement outcome) && outcome.ValueKind == JsonValueKind.Object)
                {
                    return AgentLatencySample.From(answered, lines, outcome.GetProperty("exitCode").GetInt32()) with
                    {
                        QmpAnswer = qmpAnswer,
                    };
                }
            }
        }
        finally
        {
            await KillAsync(pids);
        }
    }

    /// <summary>Starts a filled guest pair per VM (and <paramref name="bystanders"/> guests that only run), asks for all the VMs'
    /// migrations at once and follows them to their ends.</summary>
    private static async Task<AgentThroughput> ConcurrentAsync(MigrationBenchmarkContext context, HttpClient api, string[] vms, string to,
        int bystanders)
    {
        var pids = new List<int>();
        try
        {
            for (int i = 1; i <= bystanders; i++)
            {
                pids.Add(await context.Source($"bystander{i}").StartAsync(context.Image));
            }

            foreach (string vm in vms)
            {
                pids.Add(await context.Source(vm).StartAsync(context.Image));
                pids.Add(await context.Destination(vm, paused: true).StartAsync(context.Image));
                await using QmpClient qmp = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(context.Source(vm).TestMonitor));
                await GuestQemu.WaitUntilFilledAsync(qmp, TimeSpan.FromMinutes(5));
            }

            var clock = Stopwatch.StartNew();
            string[] ids = await Task.WhenAll(vms.Select(async vm =>
            {
                using HttpResponseMessage posted = await api.PostAsJsonAsync("/v1/migrations", new { vm, to,
                    peerName = BenchmarkPki.DestinationName, retries = 0 });
                using JsonDocument started = JsonDocument.Parse(await posted.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
                return started.RootElement.GetProperty("id").GetString()!;
            }));
            JsonElement[] ended = await Task.WhenAll(ids.Select(async id =>
            {
                while (true)
                {
                    using JsonDocument view = JsonDocument.Parse(await api.GetStringAsync($"/v1/migrations/{id}?after=100000&wait=10"));
                    if (view.RootElement.GetProperty("outcome") is { ValueKind: JsonValueKind.Object } outcome)
                    {
                        if (outcome.GetProperty("exitCode").GetInt32() != 0)
                        {
                            throw new InvalidOperationException($"A migration failed: {outcome}");
                        }

                        return view.RootElement.Clone();
                    }
                }
            }));
            TimeSpan wall = clock.Elapsed;
            var intervals = ended.Select(v => (Start: v.GetProperty("startedAt").GetDateTimeOffset(),
                End: v.GetProperty("endedAt").GetDateTimeOffset())).ToList();
            int mostAtOnce = intervals.Max(i => intervals.Count(other => other.Start <= i.Start && i.Start < other.End));
            long bytes = ended.Sum(v => v.GetProperty("outcome").GetProperty("bytes").GetInt64());
            return new AgentThroughput(vms.Length, bytes, wall, mostAtOnce);
        }
        finally
        {
            await KillAsync(pids);
        }
    }

    internal static async Task KillAsync(IEnumerable<int> pids)
    {
        foreach (int pid in pids)
        {
            try
            {
                using Process process = Process.GetProcessById(pid);
                process.Kill();
                await process.WaitForExitAsync();
            }
            catch (ArgumentException)
            {
                // gone already: the agent quit the source after the commit
            }
        }
    }

    /// <summary>An HTTP client of an agent's control socket, with at most <paramref name="connections"/> open at once.</summary>
    internal static HttpClient UnixSocketClient(string socket, int connections = 4) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        ConnectCallback = async (_, token) =>
        {
            var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), token);
            return new NetworkStream(connection, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://agent") };

    private static void Report(List<AgentLatencySample> samples, int memoryMiB, string? variant)
    {
        if (variant is not null)
        {
            Console.WriteLine();
            Console.WriteLine(variant);
        }

        Console.WriteLine($"Warm agent pair on loopback, {samples.Count} rounds after a warm-up, {memoryMiB} MiB TCG guests; " +
            $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| interval | median ms | min ms | max ms | target |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        void Row(string name, IEnumerable<TimeSpan> values, string target)
        {
            double[] ms = [.. values.Select(value => value.TotalMilliseconds)];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Samples.Median(ms):0.0} | {ms.Min():0.0} | {ms.Max():0.0} | {target} |"));
        }

        Row("API call answered (202)", samples.Select(s => s.Answered), "—");
        Row("one QMP command answered by the running guest's QEMU", samples.Select(s => s.QmpAnswer), "—");
        Row("API call → Transferring", samples.Select(s => s.ToTransferring), "—");
        Row("API call → QEMU's migrate (SwitchingOver less QEMU's total-time)", samples.Select(s => s.ToMigrate), "≤ 30 ms");
        Row("handshake + ticket (PreHooksDone → ChannelOpen)", samples.Select(s => s.Handshake), "—");
        Row("commit (SwitchingOver → Committed)", samples.Select(s => s.Commit), "—");
        Row("handshake + ticket + commit", samples.Select(s => s.Handshake + s.Commit), "≤ 50 ms");
        Row("whole migration (API call → result)", samples.Select(s => s.Total), "—");
    }
}
