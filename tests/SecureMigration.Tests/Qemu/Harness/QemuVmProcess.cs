using System.Diagnostics;
using System.Net.Sockets;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.TestGuests;

namespace SecureMigration.Tests.Qemu.Harness;

/// <summary>
/// A real QEMU (TCG) running <see cref="TestGuest"/>, daemonized so that it is ready (monitors listening) once the
/// launching process exits. It has two QMP monitors: one for SecureMigration, one for the test. Its RAM is a shared
/// file, which is the residue SecureMigration must sanitize when the copy stops.
/// </summary>
public sealed class QemuVmProcess : IAsyncDisposable
{
    private QemuVmProcess(GuestQemu settings, int pid)
    {
        Settings = settings;
        Pid = pid;
    }

    private GuestQemu Settings { get; }

    public string Directory => Settings.Directory;

    public string Name => Settings.Name;

    public int Pid { get; }

    /// <summary>Gets the monitor SecureMigration drives (the agent's or migrate's <c>--vm</c>/<c>--qmp</c>).</summary>
    public string AgentMonitor => Settings.AgentMonitor;

    /// <summary>Gets the test's own monitor.</summary>
    public string TestMonitor => Settings.TestMonitor;

    /// <summary>Gets the file that holds the guest's RAM.</summary>
    public string MemoryFile => Settings.MemoryFile;

    public int MemoryMiB => Settings.MemoryMiB;

    /// <summary>Gets whether the QEMU process still exists (and is not a zombie).</summary>
    public bool IsAlive
    {
        get
        {
            string stat = $"/proc/{Pid}/stat";
            try
            {
                string text = File.ReadAllText(stat);
                return text[(text.LastIndexOf(')') + 2)..][0] != 'Z';
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    /// <summary>Starts a VM that runs the guest.</summary>
    public static Task<QemuVmProcess> StartSourceAsync(string directory, string name, int memoryMiB = 64) => StartAsync(directory, name,
        memoryMiB, incoming: false);

    /// <summary>Starts a destination QEMU waiting for an incoming migration, as an operator would: <c>-incoming defer -S</c>.</summary>
    public static Task<QemuVmProcess> StartDestinationAsync(string directory, string name, int memoryMiB = 64) => StartAsync(directory,
        name, memoryMiB, incoming: true);

    /// <summary>Opens the test's monitor.</summary>
    public Task<QmpClient> ConnectAsync() => QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(TestMonitor));

    /// <summary>Returns QEMU's run state, through the test's monitor.</summary>
    public async Task<string> StatusAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        return (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString()!;
    }

    /// <summary>Dumps the guest's whole physical memory through QMP <c>pmemsave</c>, paused so the dump is consistent, and returns
    /// it.</summary>
    public async Task<byte[]> DumpMemoryAsync()
    {
        string dump = Path.Combine(Directory, $"{Name}-{Guid.NewGuid():N}.dump");
        await using (QmpClient qmp = await ConnectAsync())
        {
            bool running = (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString() == "running";
            if (running)
            {
                await qmp.ExecuteAsync("stop");
            }

            await qmp.ExecuteAsync("pmemsave", new System.Text.Json.Nodes.JsonObject { ["val"] = 0, ["size"] = MemoryMiB * 1024L * 1024L,
                ["filename"] = dump });
            if (running)
            {
                await qmp.ExecuteAsync("cont");
            }
        }

        byte[] memory = await File.ReadAllBytesAsync(dump);
        File.Delete(dump);
        return memory;
    }

    /// <summary>Reads the guest's generation counter.</summary>
    public async Task<uint> CounterAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        return await GuestQemu.ReadWordAsync(qmp, GuestImage.CounterAddress, CancellationToken.None);
    }

    /// <summary>Waits until the guest has filled its RAM with the pattern (it then starts counting generations).</summary>
    public async Task WaitUntilFilledAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        await GuestQemu.WaitUntilFilledAsync(qmp, TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts watching for an event on the test's monitor; returns a task that completes when it comes.</summary>
    public async Task<Task> WatchForEventAsync(string name)
    {
        QmpClient qmp = await ConnectAsync();
        QmpEventWatcher watcher = qmp.WatchEvents(name);
        return WaitAsync();

        async Task WaitAsync()
        {
            try
            {
                await watcher.ReadAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                watcher.Dispose();
                await qmp.DisposeAsync();
            }
        }
    }

    /// <summary>Turns one of QEMU's migration capabilities on or off, through the test's monitor.</summary>
    public async Task SetMigrationCapabilityAsync(string capability, bool state)
    {
        await using QmpClient qmp = await ConnectAsync();
        await qmp.ExecuteAsync("migrate-set-capabilities", new System.Text.Json.Nodes.JsonObject
        {
            ["capabilities"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["capability"] = capability,
                ["state"] = state }),
        });
    }

    /// <summary>Returns QEMU's migration status (query-migrate), through the test's monitor.</summary>
    public async Task<string> MigrationStatusAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        System.Text.Json.JsonElement answer = await qmp.ExecuteAsync("query-migrate");
        return answer.TryGetProperty("status", out System.Text.Json.JsonElement status) ? status.GetString()! : "none";
    }

    public ValueTask DisposeAsync()
    {
        if (IsAlive)
        {
            try
            {
                Process.GetProcessById(Pid).Kill();
            }
            catch (ArgumentException)
            {
                // Gone meanwhile.
            }
        }

        return ValueTask.CompletedTask;
    }

    private static async Task<QemuVmProcess> StartAsync(string directory, string name, int memoryMiB, bool incoming)
    {
        ExternalProgram.Require("qemu-system-x86_64");
        string image = await TestGuest.ImageAsync();
        var settings = new GuestQemu(directory, name, memoryMiB, Incoming: incoming, Paused: incoming, SharedMemoryFile: true);
        return new QemuVmProcess(settings, await settings.StartAsync(image));
    }
}
