using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>The machine, kernel, device and tool versions a device bench ran on, as ordered name–value pairs.</summary>
internal static class DeviceEnvironment
{
    private static readonly string[] QueueProperties =
    [
        "logical_block_size", "physical_block_size", "max_sectors_kb", "max_hw_sectors_kb", "nr_requests", "scheduler", "rotational",
        "write_zeroes_max_bytes", "discard_max_bytes", "write_cache",
    ];

    /// <summary>Reads what describes the run.</summary>
    /// <param name="device">The loop device, e.g. <c>/dev/loop0</c>.</param>
    /// <param name="backing">Its backing file.</param>
    /// <param name="store">What holds the backing file.</param>
    public static List<KeyValuePair<string, string>> Collect(string device, string backing, BackingStore store)
    {
        string name = Path.GetFileName(device);
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?
            .Split(':', 2)[1].Trim() ?? "unknown";
        string memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(':', 2)[1]
            .Trim();
        List<KeyValuePair<string, string>> values =
        [
            new("cpu", cpu),
            new("cores", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("memory", memory),
            new("kernel", Output("uname", "-srvm")),
            new("runtime", RuntimeInformation.FrameworkDescription),
            new("device", device),
            new("loop_backing_file", backing),
            new("loop_dio", Read($"/sys/block/{name}/loop/dio")),
            .. store.Record(),
            .. QueueProperties.Select(p => new KeyValuePair<string, string>("queue." + p, Read($"/sys/block/{name}/queue/{p}"))),
            new("fio", Output("fio", "--version")),
            new("nwipe", Output("nwipe", "--version").Split('\n')[0]),
            new("shred", Output("shred", "--version").Split('\n')[0]),
            new("dd", Output("dd", "--version").Split('\n')[0]),
        ];
        return values;
    }

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "absent";

    private static string Output(string program, string arguments)
    {
        try
        {
            using Process process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true,
                RedirectStandardError = true })!;
            string text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return text.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not installed";
        }
    }
}
