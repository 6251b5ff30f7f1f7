using System.Text.Json.Nodes;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Qemu;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// A probe, not a contender: QEMU migrating over unix sockets into a pair of socat relays joined by loopback TCP,
/// with no encryption at all, laid out like (b) (QEMU → unix → relay → TCP → relay → unix → QEMU). It shows what two
/// extra processes copying the stream cost on this machine before any security is added.
/// </summary>
internal sealed class RelayFloorPath : IMigrationPath
{
    private const int RelayBuffer = 256 * 1024;
    private readonly List<BackgroundProcess> _relays = [];
    private string _directory = string.Empty;

    public string Name => "probe: socat relay pair over unix sockets, no TLS";

    public string Key => "relay";

    public bool DestinationPaused => false;

    public Task StartAsync(MigrationBenchmarkContext context)
    {
        _directory = context.Directory;
        return Task.CompletedTask;
    }

    public async Task PrepareAsync(MigrationHosts hosts)
    {
        StopRelays(); // each relay pair carries one migration and exits
        int port = TunnelPorts.FreePort();
        string incoming = Path.Combine(_directory, hosts.VmId + "-in.sock");
        await hosts.SourceQmp.ExecuteAsync("migrate-set-parameters",
            new JsonObject { ["max-bandwidth"] = new QemuDriverOptions().MaxBandwidth });
        await hosts.DestinationQmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = "unix:" + incoming });
        await StartRelayAsync($"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", $"UNIX-CONNECT:{incoming}");
        await StartRelayAsync($"UNIX-LISTEN:{Outgoing(hosts)}", $"TCP:127.0.0.1:{port}");
    }

    public Task BeginAsync(MigrationHosts hosts) =>
        hosts.SourceQmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = "unix:" + Outgoing(hosts) });

    public Task<QemuMigrationInfo> EndAsync(MigrationHosts hosts) => DirectQemuPath.WaitUntilCompletedAsync(Name, hosts);

    /// <summary>Waits for both relays, which exit when the migration's connection closes, and returns what they used (they run
    /// under GNU time, so they are not measured from /proc as well).</summary>
    public async Task<CpuUsage> ExitedRelayUsageAsync()
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_relays.Any(relay => !relay.HasExited))
        {
            await Task.Delay(20, patience.Token);
        }

        return Enumerable.Range(0, _relays.Count).Aggregate(CpuUsage.Zero, (sum, i) => sum + (ExitUsage.Read(Usage(i)) ??
            throw new InvalidOperationException("a relay's usage was not written")));
    }

    public void Dispose() => StopRelays();

    private string Usage(int relay) => Path.Combine(_directory, $"relay-{relay}.usage");

    private string Outgoing(MigrationHosts hosts) => Path.Combine(_directory, hosts.VmId + "-out.sock");

    private async Task StartRelayAsync(string listen, string connect)
    {
        (string program, List<string> arguments) = ExitUsage.Wrap(Usage(_relays.Count), "/usr/bin/socat", ["-d", "-d", "-b",
            RelayBuffer.ToString(System.Globalization.CultureInfo.InvariantCulture), listen, connect]);
        (BackgroundProcess relay, _) = await BackgroundProcess.StartAsync(program, arguments, "listening on");
        _relays.Add(relay);
    }

    private void StopRelays()
    {
        _relays.ForEach(relay => relay.Dispose());
        _relays.Clear();
    }
}
