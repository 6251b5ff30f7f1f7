using System.Text.Json.Nodes;
using SecureMigration.Qemu;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// QEMU migrating by itself over TCP on loopback: the destination listens (<c>migrate-incoming tcp:…</c>) and
/// resumes the guest on its own when the copy completes; the source sends with the same <c>max-bandwidth</c> the
/// SecureMigration driver sets. The baseline (a), and the base of the stunnel and QEMU-TLS paths.
/// </summary>
internal class DirectQemuPath : IMigrationPath
{
    private int _incomingPort;

    public virtual string Name => "(a) QEMU, plain TCP";

    public virtual string Key => "tcp";

    public bool DestinationPaused => false;

    /// <summary>Gets the port the source's QEMU sends to.</summary>
    protected virtual int SourceTargetPort => _incomingPort;

    /// <summary>Gets the port the destination's QEMU listens on.</summary>
    protected int IncomingPort => _incomingPort;

    public virtual Task StartAsync(MigrationBenchmarkContext context)
    {
        _incomingPort = Processes.TunnelPorts.FreePort();
        return Task.CompletedTask;
    }

    public virtual async Task PrepareAsync(MigrationHosts hosts)
    {
        await hosts.SourceQmp.ExecuteAsync("migrate-set-parameters",
            new JsonObject { ["max-bandwidth"] = new QemuDriverOptions().MaxBandwidth });
        await hosts.DestinationQmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{IncomingPort}" });
    }

    public Task BeginAsync(MigrationHosts hosts) =>
        hosts.SourceQmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"tcp:127.0.0.1:{SourceTargetPort}" });

    public Task<QemuMigrationInfo> EndAsync(MigrationHosts hosts) => WaitUntilCompletedAsync(Name, hosts);

    /// <summary>Waits until the source's QEMU says its migration completed (the destination resumed already; the source is marking its
    /// end).</summary>
    public static async Task<QemuMigrationInfo> WaitUntilCompletedAsync(string path, MigrationHosts hosts)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        while (true)
        {
            QemuMigrationInfo info = QemuMigrationInfo.Parse(await hosts.SourceQmp.ExecuteAsync("query-migrate",
                cancellationToken: patience.Token));
            if (info.IsSettled)
            {
                return info.Status == "completed" ? info : throw new InvalidOperationException($"{path}: QEMU's migration ended " +
                    $"{info.Status}: {info.Error}");
            }

            await Task.Delay(10, patience.Token);
        }
    }

    public virtual void Dispose()
    {
    }
}
