using SecureMigration.Benchmarks.Migration;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Throughput;

namespace SecureMigration.Benchmarks.Agent;

/// <summary>A source and a destination <c>secmig agent</c> of one build, serving <c>vms</c>, running until disposed, with the runtime
/// settings of the shipped systemd unit (<see cref="AgentUnit"/>).</summary>
internal sealed class AgentPair : IAsyncDisposable
{
    private readonly BackgroundProcess _source;
    private readonly BackgroundProcess _destination;

    private AgentPair(BackgroundProcess source, BackgroundProcess destination, HttpClient api, string to)
    {
        _source = source;
        _destination = destination;
        Api = api;
        To = to;
    }

    /// <summary>Gets a client of the source agent's control socket.</summary>
    public HttpClient Api { get; }

    /// <summary>Gets the destination agent's address.</summary>
    public string To { get; }

    /// <summary>Starts the pair; <paramref name="tag"/> names its work directories and ownership registry.</summary>
    public static async Task<AgentPair> StartAsync(MigrationBenchmarkContext context, string secmig, string tag, string[] vms)
    {
        string registry = Path.Combine(context.Directory, "ownership-" + tag);
        SecmigTool service = new SecmigTool(secmig, []).AsAgentService();
        (BackgroundProcess destination, string listening) = await BackgroundProcess.StartAsync(service.Command(
            ["agent", "--listen", "127.0.0.1:0",
                .. vms.SelectMany(vm => new[] { "--vm", $"{vm}={context.Destination(vm, paused: true).AgentMonitor}" }),
                "--work", Path.Combine(context.Directory, "dst-work-" + tag),
                "--registry", registry, .. BenchmarkPki.Arguments(context.Credentials, "destination")]), "listening ");
        try
        {
            string sourceWork = Path.Combine(context.Directory, "src-work-" + tag);
            (BackgroundProcess source, _) = await BackgroundProcess.StartAsync(service.Command(
                ["agent", "--listen", "127.0.0.1:0",
                    .. vms.SelectMany(vm => new[] { "--vm", $"{vm}={context.Source(vm).AgentMonitor}" }), "--work", sourceWork,
                    "--registry", registry, .. BenchmarkPki.Arguments(context.Credentials, "source")]), "control ");
            return new AgentPair(source, destination,
                AgentLatencyRunner.UnixSocketClient(Path.Combine(sourceWork, "control.sock")),
                listening[..listening.IndexOf(' ', StringComparison.Ordinal)]);
        }
        catch
        {
            destination.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        Api.Dispose();
        _source.Dispose();
        _destination.Dispose();
        return ValueTask.CompletedTask;
    }
}
