using System.Net.Http.Json;
using System.Text.Json;
using SecureMigration.Benchmarks.Agent;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.Qemu;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// (b′) SecureMigration as a host service: a <c>secmig agent</c> on each side for the whole run, the source's serving the
/// round's VM (<c>--vm</c>), and each migration asked of the source agent's control API (<c>POST /v1/migrations</c>) and
/// followed with long polls, as an orchestrator does. No process starts inside the trial; both agents count as relays.
/// </summary>
internal sealed class AgentPairPath(SecmigTool secmig, string variant = "") : IMigrationPath
{
    private BackgroundProcess? _source;
    private BackgroundProcess? _destination;
    private HttpClient? _api;
    private string _to = null!;
    private string? _id;

    public string Name => "(b′) secmig agent → secmig agent (warm, control API)" + variant;

    public string Key => "agents" + (variant.Length > 0 ? "-b" : string.Empty);

    public bool DestinationPaused => true;

    public async Task StartAsync(MigrationBenchmarkContext context)
    {
        string registry = Path.Combine(context.Directory, Key + "-ownership");
        string[] vms = [.. Enumerable.Range(0, context.Rounds + 1).Select(round => MigrationBenchmarkContext.VmId(this, round))];
        (_destination, string listening) = await BackgroundProcess.StartAsync(secmig.AsAgentService().Command(["agent", "--listen", "127.0.0.1:0",
            .. vms.SelectMany(vm => new[] { "--vm", $"{vm}={context.Destination(vm, paused: true).AgentMonitor}" }),
            "--work", Path.Combine(context.Directory, Key + "-dst-work"), "--registry", registry,
            .. BenchmarkPki.Arguments(context.Credentials, "destination")]), "listening ");
        _to = listening[..listening.IndexOf(' ', StringComparison.Ordinal)];
        string sourceWork = Path.Combine(context.Directory, Key + "-src-work");
        (_source, string _) = await BackgroundProcess.StartAsync(secmig.AsAgentService().Command(["agent", "--listen", "127.0.0.1:0",
            .. vms.SelectMany(vm => new[] { "--vm", $"{vm}={context.Source(vm).AgentMonitor}" }),
            "--work", sourceWork, "--registry", registry, .. BenchmarkPki.Arguments(context.Credentials, "source")]), "control ");
        _api = AgentLatencyRunner.UnixSocketClient(Path.Combine(sourceWork, "control.sock"));
    }

    public Task PrepareAsync(MigrationHosts hosts) => Task.CompletedTask;

    public async Task BeginAsync(MigrationHosts hosts)
    {
        using HttpResponseMessage posted = await _api!.PostAsJsonAsync("/v1/migrations", new { vm = hosts.VmId, to = _to,
            peerName = BenchmarkPki.DestinationName, retries = 0 });
        using JsonDocument started = JsonDocument.Parse(await posted.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        _id = started.RootElement.GetProperty("id").GetString();
    }

    public async Task<QemuMigrationInfo> EndAsync(MigrationHosts hosts)
    {
        var lines = new List<string>();
        int next = 0;
        while (true)
        {
            using JsonDocument view = JsonDocument.Parse(await _api!.GetStringAsync($"/v1/migrations/{_id}?after={next}&wait=10"));
            lines.AddRange(view.RootElement.GetProperty("lines").EnumerateArray().Select(line => line.GetString()!));
            next = view.RootElement.GetProperty("next").GetInt32();
            if (view.RootElement.TryGetProperty("outcome", out JsonElement outcome) && outcome.ValueKind == JsonValueKind.Object)
            {
                int exitCode = outcome.GetProperty("exitCode").GetInt32();
                string output = string.Join(Environment.NewLine, lines);
                return exitCode == 0 && SecmigQemuLine.Find(output) is { } info
                    ? info
                    : throw new InvalidOperationException($"the agent's migration ended {exitCode}:{Environment.NewLine}{output}");
            }
        }
    }

    public IReadOnlyList<int> RelayProcesses => [_source!.Id, _destination!.Id];

    public void Dispose()
    {
        _api?.Dispose();
        _source?.Dispose();
        _destination?.Dispose();
    }
}
