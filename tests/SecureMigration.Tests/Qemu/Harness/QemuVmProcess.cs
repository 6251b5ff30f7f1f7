using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Qemu.Harness;

/// <summary>
/// A real QEMU (TCG) running <see cref="TestGuest"/>, daemonized so that it is ready (monitors listening) once the
/// launching process exits. It has two QMP monitors: one for SecureMigration, one for the test. Its RAM is a shared
/// file, which is the residue SecureMigration must sanitize when the copy stops.
/// </summary>
public sealed class QemuVmProcess : IAsyncDisposable
{
    private QemuVmProcess(string directory, string name, int pid)
    {
        Directory = directory;
        Name = name;
        Pid = pid;
    }

    public string Directory { get; }

    public string Name { get; }

    public int Pid { get; }

    /// <summary>Gets the monitor SecureMigration drives (the agent's or migrate's <c>--vm</c>/<c>--qmp</c>).</summary>
    public string AgentMonitor => Path.Combine(Directory, Name + ".qmp");

    /// <summary>Gets the test's own monitor.</summary>
    public string TestMonitor => Path.Combine(Directory, Name + "-test.qmp");

    /// <summary>Gets the file that holds the guest's RAM.</summary>
    public string MemoryFile => Path.Combine(Directory, Name + ".ram");

    public int MemoryMiB { get; private init; }

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
    public static Task<QemuVmProcess> StartSourceAsync(string directory, string name, int memoryMiB = 64) => StartAsync(directory, name, memoryMiB, incoming: false);

    /// <summary>Starts a destination QEMU waiting for an incoming migration, as an operator would: <c>-incoming defer -S</c>.</summary>
    public static Task<QemuVmProcess> StartDestinationAsync(string directory, string name, int memoryMiB = 64) => StartAsync(directory, name, memoryMiB, incoming: true);

    /// <summary>Opens the test's monitor.</summary>
    public Task<QmpClient> ConnectAsync() => QmpClient.ConnectAsync(new UnixDomainSocketEndPoint(TestMonitor));

    /// <summary>Returns QEMU's run state, through the test's monitor.</summary>
    public async Task<string> StatusAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        return (await qmp.ExecuteAsync("query-status")).GetProperty("status").GetString()!;
    }

    /// <summary>Dumps the guest's whole physical memory through QMP <c>pmemsave</c>, paused so the dump is consistent, and returns it.</summary>
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

            await qmp.ExecuteAsync("pmemsave", new System.Text.Json.Nodes.JsonObject { ["val"] = 0, ["size"] = MemoryMiB * 1024L * 1024L, ["filename"] = dump });
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
        return await ReadWordAsync(qmp, TestGuest.CounterAddress, CancellationToken.None);
    }

    /// <summary>Waits until the guest has filled its RAM with the pattern (it then starts counting generations).</summary>
    public async Task WaitUntilFilledAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (await ReadWordAsync(qmp, TestGuest.CounterAddress + 8, patience.Token) == TestGuest.FilledMarker)
            {
                return;
            }

            await Task.Delay(20, patience.Token); // polls the guest, which has no way to signal
        }
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

    /// <summary>Returns QEMU's migration status (query-migrate), through the test's monitor.</summary>
    public async Task<string> MigrationStatusAsync()
    {
        await using QmpClient qmp = await ConnectAsync();
        System.Text.Json.JsonElement answer = await qmp.ExecuteAsync("query-migrate");
        return answer.TryGetProperty("status", out System.Text.Json.JsonElement status) ? status.GetString()! : "none";
    }

    /// <summary>Reads one 32-bit word of guest physical memory with the monitor's <c>xp</c>.</summary>
    private static async Task<uint> ReadWordAsync(QmpClient qmp, long address, CancellationToken cancellationToken)
    {
        string line = (await qmp.ExecuteAsync("human-monitor-command", new System.Text.Json.Nodes.JsonObject
        {
            ["command-line"] = $"xp /1wx 0x{address:X}",
        }, cancellationToken)).GetString()!;
        return uint.Parse(line[(line.IndexOf("0x", line.IndexOf(':'), StringComparison.Ordinal) + 2)..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
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
        string image = await TestGuest.ImageAsync();
        var vm = new QemuVmProcess(directory, name, 0) { MemoryMiB = memoryMiB };
        string pidFile = Path.Combine(directory, name + ".pid");
        var start = new ProcessStartInfo(ExternalProgram.Require("qemu-system-x86_64")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in new[]
        {
            "-machine", "q35,accel=tcg,memory-backend=ram", "-m", memoryMiB + "M", "-display", "none", "-nodefaults",
            "-object", $"memory-backend-file,id=ram,size={memoryMiB}M,mem-path={vm.MemoryFile},share=on",
            "-kernel", image,
            "-qmp", $"unix:{vm.AgentMonitor},server=on,wait=off",
            "-qmp", $"unix:{vm.TestMonitor},server=on,wait=off",
            "-daemonize", "-pidfile", pidFile,
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (incoming)
        {
            foreach (string argument in new[] { "-incoming", "defer", "-S" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        using Process process = Process.Start(start)!;
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"QEMU did not start: {errors}");
        int pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), CultureInfo.InvariantCulture);
        return new QemuVmProcess(directory, name, pid) { MemoryMiB = memoryMiB };
    }
}
