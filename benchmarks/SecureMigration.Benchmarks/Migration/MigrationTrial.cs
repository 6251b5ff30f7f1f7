using System.Diagnostics;
using System.Net.Sockets;
using SecureMigration.Benchmarks.Processes;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;
using SecureMigration.TestGuests;

namespace SecureMigration.Benchmarks.Migration;

/// <summary>
/// One timed migration: a fresh source QEMU that has filled its RAM with the guest's pattern (so no page is a zero
/// page) and keeps dirtying it, a fresh destination, and the path between them. The clock runs from the command that
/// starts the migration to the destination's RESUME event; downtime is read from QEMU and from the QMP events.
/// </summary>
internal static class MigrationTrial
{
    public static async Task<MigrationSample> RunAsync(IMigrationPath path, MigrationBenchmarkContext context, int round)
    {
        string vmId = MigrationBenchmarkContext.VmId(path, round);
        GuestQemu source = context.Source(vmId);
        GuestQemu destination = context.Destination(vmId, path.DestinationPaused);
        var pids = new List<int> { await source.StartAsync(context.Image) };
        try
        {
            pids.Add(await destination.StartAsync(context.Image));
            await using QmpClient sourceQmp = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(source.TestMonitor));
            await using QmpClient destinationQmp = await QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(destination.TestMonitor));
            await GuestQemu.WaitUntilFilledAsync(sourceQmp, TimeSpan.FromMinutes(5));
            using QmpEventWatcher stops = sourceQmp.WatchEvents("STOP");
            using QmpEventWatcher resumes = destinationQmp.WatchEvents("RESUME");
            var hosts = new MigrationHosts(vmId, source, sourceQmp, destination, destinationQmp);
            await path.PrepareAsync(hosts);

            CpuMeter relays = CpuMeter.Start(path.RelayProcesses);
            CpuMeter qemus = CpuMeter.Start(pids, [.. await VcpuThreadsAsync(sourceQmp), .. await VcpuThreadsAsync(destinationQmp)]);
            DateTimeOffset started = DateTimeOffset.UtcNow;
            await path.BeginAsync(hosts);
            QmpEvent resumed = await resumes.ReadAsync(TimeSpan.FromMinutes(5));
            CpuUsage qemu = await qemus.StopAsync();
            CpuUsage relay = await relays.StopAsync();
            QemuMigrationInfo info = await path.EndAsync(hosts);
            QmpEvent stopped = await stops.ReadAsync(TimeSpan.FromSeconds(10));
            relay += await path.ExitedRelayUsageAsync();
            return new MigrationSample(resumed.Timestamp - started, info.TransferredBytes, info.Downtime ?? TimeSpan.Zero,
                resumed.Timestamp - stopped.Timestamp, info.Passes, info.TotalTime ?? TimeSpan.Zero, relay, qemu,
                qemus.VcpuSeconds);
        }
        finally
        {
            foreach (int pid in pids)
            {
                Kill(pid);
            }
        }
    }

    /// <summary>The thread ids of a QEMU's vCPUs.</summary>
    private static async Task<IEnumerable<int>> VcpuThreadsAsync(QmpClient qmp) =>
        (await qmp.ExecuteAsync("query-cpus-fast")).EnumerateArray().Select(cpu => cpu.GetProperty("thread-id").GetInt32());

    private static void Kill(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException)
        {
            // Already gone (secmig quits the source QEMU after the commit).
        }
    }
}
