using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SecureMigration.Qemu.Qmp;

namespace SecureMigration.TestGuests;

/// <summary>How to start a QEMU (TCG) that runs <see cref="GuestImage"/>.</summary>
/// <param name="Directory">Where its monitors, pid file and RAM file go.</param>
/// <param name="Name">Its name, the stem of those files.</param>
/// <param name="MemoryMiB">Its RAM.</param>
/// <param name="Incoming">Whether it waits for an incoming migration (<c>-incoming defer</c>).</param>
/// <param name="Paused">Whether it starts paused (<c>-S</c>), so that only <c>cont</c> runs it.</param>
/// <param name="SharedMemoryFile">Whether its RAM is a shared <c>memory-backend-file</c> (which SecureMigration treats as residue) rather
/// than anonymous memory.</param>
internal sealed record GuestQemu(string Directory, string Name, int MemoryMiB, bool Incoming, bool Paused, bool SharedMemoryFile)
{
    /// <summary>Gets the monitor SecureMigration drives.</summary>
    public string AgentMonitor => Path.Combine(Directory, Name + ".qmp");

    /// <summary>Gets the monitor the test or benchmark drives.</summary>
    public string TestMonitor => Path.Combine(Directory, Name + "-test.qmp");

    /// <summary>Gets the file that holds the guest's RAM when <see cref="SharedMemoryFile"/> is set.</summary>
    public string MemoryFile => Path.Combine(Directory, Name + ".ram");

    /// <summary>Gets the file QEMU writes its process id to once it is ready.</summary>
    public string PidFile => Path.Combine(Directory, Name + ".pid");

    /// <summary>QEMU's arguments: the guest, its RAM, its monitors, daemonized with a pid file.</summary>
    /// <param name="image">The guest's image.</param>
    /// <param name="agentMonitor">Whether to open <see cref="AgentMonitor"/> (leave it out when the caller names its own).</param>
    public List<string> Arguments(string image, bool agentMonitor = true)
    {
        var arguments = new List<string>
        {
            "-machine", "q35,accel=tcg" + (SharedMemoryFile ? ",memory-backend=ram" : string.Empty), "-m", MemoryMiB + "M", "-display",
                "none", "-nodefaults",
            "-kernel", image,
            "-qmp", $"unix:{TestMonitor},server=on,wait=off",
            "-daemonize", "-pidfile", PidFile,
        };
        if (agentMonitor)
        {
            arguments.AddRange(["-qmp", $"unix:{AgentMonitor},server=on,wait=off"]);
        }

        if (SharedMemoryFile)
        {
            arguments.AddRange(["-object", $"memory-backend-file,id=ram,size={MemoryMiB}M,mem-path={MemoryFile},share=on"]);
        }

        if (Incoming)
        {
            arguments.AddRange(["-incoming", "defer"]);
        }

        if (Paused)
        {
            arguments.Add("-S");
        }

        return arguments;
    }

    /// <summary>Starts QEMU daemonized, so its monitors listen once this returns.</summary>
    /// <returns>QEMU's process id.</returns>
    /// <exception cref="InvalidOperationException">QEMU did not start; the message carries its errors.</exception>
    public async Task<int> StartAsync(string image)
    {
        var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardError = true, RedirectStandardOutput = true,
            UseShellExecute = false };
        List<string> arguments = Arguments(image);
        arguments.ForEach(start.ArgumentList.Add);
        using Process process = Process.Start(start)!;
        string errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"QEMU did not start (install qemu-system-x86): {errors}");
        }

        return int.Parse((await File.ReadAllTextAsync(PidFile)).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until the guest has filled its RAM with the pattern (it then starts counting generations).</summary>
    public static async Task WaitUntilFilledAsync(QmpClient qmp, TimeSpan patience)
    {
        using var cancellation = new CancellationTokenSource(patience);
        while (await ReadWordAsync(qmp, GuestImage.CounterAddress + 8, cancellation.Token) != GuestImage.FilledMarker)
        {
            await Task.Delay(20, cancellation.Token); // polls the guest, which has no way to signal
        }
    }

    /// <summary>Reads one 32-bit word of guest physical memory with the monitor's <c>xp</c>.</summary>
    public static async Task<uint> ReadWordAsync(QmpClient qmp, long address, CancellationToken cancellationToken)
    {
        string line = (await qmp.ExecuteAsync("human-monitor-command", new JsonObject
        {
            ["command-line"] = $"xp /1wx 0x{address:X}",
        }, cancellationToken)).GetString()!;
        return uint.Parse(line[(line.IndexOf("0x", line.IndexOf(':'), StringComparison.Ordinal) + 2)..].Trim(), NumberStyles.HexNumber,
            CultureInfo.InvariantCulture);
    }
}
