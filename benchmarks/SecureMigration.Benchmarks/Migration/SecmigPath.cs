using System.Diagnostics;
using System.Net;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Benchmarks.Throughput;
using SecureMigration.Qemu;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// (b) SecureMigration as an operator runs it: one <c>secmig agent</c> on the destination for the whole run, and one
/// <c>secmig migrate</c> per migration (process start, handshake, ticket, journal and commit included in the time).
/// The destination QEMU starts with <c>-incoming defer -S</c>; the agent resumes it only after the commit. With
/// <paramref name="onEtcd"/>, both hosts keep the ownership registry (and the source its lease and admission slots) in a
/// three-member etcd cluster with TLS on loopback instead of a shared directory.
/// </summary>
internal sealed class SecmigPath(SecmigTool secmig, bool onEtcd = false, string variant = "") : IMigrationPath
{
    private readonly List<BackgroundProcess> _etcdMembers = [];
    private MigrationBenchmarkContext _context = null!;
    private string _registry = null!;
    private BackgroundProcess? _agent;
    private IPEndPoint _agentEndPoint = null!;
    private Task<(int ExitCode, string Output)>? _migration;

    public string Name => (onEtcd ? "(b) with the registry on etcd (3 members, TLS)" : "(b) secmig migrate → secmig agent") + variant;

    public string Key => (onEtcd ? "secmig-etcd" : "secmig") + (variant.Length > 0 ? "-b" : string.Empty);

    public bool DestinationPaused => true;

    private string Registry => _registry;

    public async Task StartAsync(MigrationBenchmarkContext context)
    {
        _context = context;
        _registry = onEtcd
            ? await BenchEtcd.StartAsync(BenchmarkPki.Authority, System.IO.Directory.CreateDirectory(Path.Combine(context.Directory,
                "etcd")).FullName, _etcdMembers)
            : Path.Combine(context.Directory, "ownership");
        var served = Enumerable.Range(0, context.Rounds + 1)
            .Select(round => MigrationBenchmarkContext.VmId(this, round))
            .SelectMany(vm => new[] { "--vm", $"{vm}={context.Destination(vm, paused: true).AgentMonitor}" });
        (string program, List<string> arguments) = secmig.Command(["agent", "--listen", "127.0.0.1:0", .. served,
            "--work", Path.Combine(context.Directory, Key + "-agent-work"), "--registry", Registry,
            .. BenchmarkPki.Arguments(context.Credentials, "destination")]);
        (_agent, string listening) = await BackgroundProcess.StartAsync(program, arguments, "listening ");
        _agentEndPoint = IPEndPoint.Parse(listening[..listening.IndexOf(' ', StringComparison.Ordinal)]);
    }

    public Task PrepareAsync(MigrationHosts hosts) => Task.CompletedTask;

    public Task BeginAsync(MigrationHosts hosts)
    {
        (string program, List<string> arguments) = secmig.Command(["migrate", "--vm", hosts.VmId, "--qmp",
            hosts.Source.AgentMonitor, "--to",
            _agentEndPoint.ToString(),
            "--peer-name", BenchmarkPki.DestinationName, "--work", Path.Combine(_context.Directory, Key + "-migrate-work"), "--registry",
                Registry,
            .. BenchmarkPki.Arguments(_context.Credentials, "source")]);
        (program, arguments) = ExitUsage.Wrap(MigrateUsage, program, arguments);
        _migration = RunAsync(program, arguments);
        return Task.CompletedTask;
    }

    public async Task<QemuMigrationInfo> EndAsync(MigrationHosts hosts)
    {
        (int exitCode, string output) = await _migration!;
        return exitCode == 0 && SecmigQemuLine.Find(output) is { } info
            ? info
            : throw new InvalidOperationException($"secmig migrate exited {exitCode}:{Environment.NewLine}{output}");
    }

    public IReadOnlyList<int> RelayProcesses => [_agent!.Id];

    /// <summary>What <c>secmig migrate</c> used (EndAsync waited for it to exit).</summary>
    public Task<CpuUsage> ExitedRelayUsageAsync() => Task.FromResult(ExitUsage.Read(MigrateUsage) ?? throw new InvalidOperationException(
        "secmig migrate's usage was not written"));

    private string MigrateUsage => Path.Combine(_context.Directory, Key + "-migrate.usage");

    public void Dispose()
    {
        _agent?.Dispose();
        _etcdMembers.ForEach(member => member.Dispose());
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, List<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> errors = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + await errors);
    }
}
