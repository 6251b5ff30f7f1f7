using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SecureMigration.Benchmarks.Processes;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// Issue 20's bench: every sanitizer method on a loop device against fio (libaio, O_DIRECT, same block size and queue
/// depth), <c>dd oflag=direct</c>, <c>shred -n 1</c> and nwipe's PRNG pass, verification against fio's O_DIRECT read,
/// and in memory the keystream against <see cref="System.Security.Cryptography.RandomNumberGenerator"/> and ChaCha20.
/// The loop device reads and writes its backing file with O_DIRECT (<c>losetup --direct-io=on</c>), for every case, so
/// the backing file's page cache never sits between a tool and the disk. Every case starts with the page cache dropped
/// and checked; cases run in groups whose order rotates each round; a read always follows a write of its own. Root only.
/// Usage: <c>dotnet run -c Release -- sanitizer-device [MiB] [rounds] [output-directory] [--backing-dir DIR]</c>
/// (<see cref="DeviceBenchArguments"/>; <c>--backing-dir /dev/shm</c> puts the backing file in memory, <see cref="BackingStore"/>).
/// </summary>
internal static class DeviceBenchRunner
{
    private const int QueueDepth = 4;

    // fio's buffers: block size × queue depth (4 MiB), rounded up to whole 2 MiB pages, with room to spare.
    private const int FioHugePages = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        DeviceBenchArguments arguments = DeviceBenchArguments.Parse(args);
        (long mib, int rounds, string output) = (arguments.MiB, arguments.Rounds, arguments.Output);
        string directory = Path.Combine(arguments.BackingDirectory, $"secmig-device-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        BackingStore store = BackingStore.Describe(directory);
        long size = mib * 1024 * 1024;
        string backing = Path.Combine(directory, "device.img");
        string? device = null;
        var samples = new List<DeviceSample>();
        string load = File.ReadAllText("/proc/loadavg").Trim();
        using FioBufferPages fioPages = FioBufferPages.Reserve(FioHugePages);
        try
        {
            await Tool("dd", $"if=/dev/zero of={backing} bs=1M count={mib} conv=fsync", directory);
            device = (await Tool("losetup", $"--find --show --direct-io=on {backing}", directory)).Output.Trim();
            string name = Path.GetFileName(device);
            int maxKiB = int.Parse(File.ReadAllText($"/sys/block/{name}/queue/max_sectors_kb").Trim(), CultureInfo.InvariantCulture);
            int blockSize = Math.Min(1024 * 1024, maxKiB * 1024);
            List<KeyValuePair<string, string>> environment = DeviceEnvironment.Collect(device, backing, store);
            environment.Add(new("block_size", blockSize.ToString(CultureInfo.InvariantCulture)));
            environment.Add(new("queue_depth", QueueDepth.ToString(CultureInfo.InvariantCulture)));
            environment.Add(new("device_bytes", size.ToString(CultureInfo.InvariantCulture)));
            environment.Add(new("rounds", rounds.ToString(CultureInfo.InvariantCulture)));
            environment.Add(new("loadavg_start", load));
            environment.AddRange(fioPages.Record());
            var cases = new DeviceCases(device, directory, size, blockSize, QueueDepth, store.ZeroRange, fioPages.Memory);
            DeviceCases.Group[] groups = cases.Groups();
            for (int round = 1; round <= rounds; round++)
            {
                int position = 0;
                for (int i = 0; i < groups.Length; i++)
                {
                    foreach (DeviceCases.Step step in groups[(i + round - 1) % groups.Length].Steps)
                    {
                        CacheCheck cache = CacheCheck.DropAndCheck(backing, store.InMemory);
                        (long bytes, double seconds, double cpu, string note) = await step.Run();
                        if (step.Name is null)
                        {
                            continue;
                        }

                        var sample = new DeviceSample(round, ++position, step.Name, step.Kind, bytes, seconds, cpu, cache, note);
                        samples.Add(sample);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {step.Name,-44} " +
                            $"{sample.GiBps,6:0.000} GiB/s cpu {cpu,6:0.00} s cache {(cache.Passed ? "dropped" : "NOT DROPPED")} {note}"));
                    }
                }

                foreach ((string name2, long bytes, double seconds, double cpu) in KeystreamComparison.Run())
                {
                    samples.Add(new DeviceSample(round, ++position, name2, "cpu", bytes, seconds, cpu, CacheCheck.None, "one thread"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {name2,-44} " +
                        $"{bytes / seconds / (1L << 30),6:0.000} GiB/s"));
                }
            }

            environment.Add(new("loadavg_end", File.ReadAllText("/proc/loadavg").Trim()));
            DeviceBenchReport.Write(samples, environment, output);
        }
        finally
        {
            if (device is not null)
            {
                await Tool("losetup", $"-d {device}", directory);
            }

            Directory.Delete(directory, recursive: true);
        }

        return 0;
    }

    /// <summary>Runs a program under GNU time; returns its output, wall seconds and CPU seconds (its rusage, children too).</summary>
    public static async Task<(string Output, double Seconds, double Cpu)> Tool(string program, string arguments, string directory)
    {
        string usage = Path.Combine(directory, "usage.txt");
        (string time, List<string> wrapped) = ExitUsage.Wrap(usage, program, arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var start = new ProcessStartInfo(time)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        wrapped.ForEach(start.ArgumentList.Add);
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> error = process.StandardError.ReadToEndAsync();
        string text = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        double seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments} failed ({process.ExitCode}): {await error}");
        }

        return (text, seconds, ExitUsage.Read(usage)?.Seconds ?? double.NaN);
    }

    /// <summary>Gets fio's own bandwidth from its JSON output, GiB/s.</summary>
    public static double FioBandwidth(string json, string direction)
    {
        using var document = JsonDocument.Parse(json[json.IndexOf('{', StringComparison.Ordinal)..]);
        return document.RootElement.GetProperty("jobs")[0].GetProperty(direction).GetProperty("bw_bytes").GetDouble() / (1L << 30);
    }
}
