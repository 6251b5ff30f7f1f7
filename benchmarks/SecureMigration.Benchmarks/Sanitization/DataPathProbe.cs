using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Sanitization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// Where a pass's time goes on a fast device: the sanitizer's written zero, random pass and full verification against
/// bare threaded writes and reads at the same block size and depth (one thread per slot, as the sanitizer's I/O slots),
/// the same with each slot thread generating its own keystream or comparing its own block, and the keystream alone on one
/// and on two threads; blocks from <see cref="AlignedMemoryPool"/>, as the sanitizer's; each with wall time, this
/// process's CPU and the whole machine's busy CPU (/proc/stat, which counts the loop device's kernel worker too). Root;
/// the device is overwritten.
/// Usage: <c>dotnet run -c Release -- sanitizer-datapath DEVICE [repeats]</c>.
/// </summary>
internal static class DataPathProbe
{
    private const int Depth = 4;
    private const int BlockSize = 1024 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        string device = args[0];
        int repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        long size = new FileInfo(device).Length;
        size = size > 0 ? size : long.Parse(File.ReadAllText($"/sys/block/{Path.GetFileName(device)}/size").Trim(),
            CultureInfo.InvariantCulture) * 512;
        var options = new SanitizerOptions
        {
            AllowBlockDevices = true, Verification = VerificationMode.None, ZeroOffload = ZeroOffload.Never, BlockSize = BlockSize,
            WritesInFlight = Depth,
        };
        byte[] key = new byte[AesCtrKeystream.KeyLength];
        byte[] key256 = new byte[AesCtrKeystream.LegacyKeyLength];
        var results = new Dictionary<string, List<(double Wall, double Cpu, double Busy)>>();
        for (int round = 0; round <= repeats; round++)
        {
            async Task Case(string name, Func<Task> run)
            {
                File.WriteAllText("/proc/sys/vm/drop_caches", "3");
                double busy = BusySeconds();
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                await run();
                double wall = clock.Elapsed.TotalSeconds;
                double own = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                double machine = BusySeconds() - busy;
                if (round > 0)
                {
                    (results.TryGetValue(name, out var list) ? list : results[name] = []).Add((wall, own, machine));
                }
            }

            await Case("threaded writes, one block filled once (+flush)", () => Task.Run(() => Threaded(device, size, true,
                (_, _, _) => { })));
            await Case("sanitizer zero (+flush)", () => new BlockSanitizer(options).SanitizeFileAsync(device, SanitizationMethod.Zero));
            await Case("threaded writes, each slot's keystream (+flush)", () => Task.Run(() => KeystreamWrites(device, size, key)));
            await Case("threaded writes, each slot's AES-256 keystream (+flush)", () => Task.Run(() => KeystreamWrites(device, size,
                key256)));
            await Case("sanitizer random (+flush)", () => new BlockSanitizer(options).SanitizeFileAsync(device, SanitizationMethod.Random));
            await Case("sanitizer zero, then:", () => new BlockSanitizer(options).SanitizeFileAsync(device, SanitizationMethod.Zero));
            await Case("threaded reads, no comparison", () => Task.Run(() => Threaded(device, size, false, (_, _, _) => { })));
            await Case("threaded reads, each slot compares", () => Task.Run(() => Threaded(device, size, false, (_, offset, block) =>
            {
                if (block.IndexOfAnyExcept((byte)0) >= 0)
                {
                    throw new InvalidOperationException($"not zero at {offset}");
                }
            })));
            await Case("sanitizer full verification", async () =>
            {
                if (await new BlockSanitizer(options).VerifyFileAsync(device, SanitizationPass.Fill(0)) is { } bad)
                {
                    throw new InvalidOperationException($"not zero at {bad}");
                }
            });
            foreach (int threads in new[] { 1, 2 })
            {
                await Case($"keystream 1 GiB in memory, {threads} thread(s)", () => Task.Run(() => Keystream(key, size, threads)));
            }
        }

        foreach ((string name, List<(double Wall, double Cpu, double Busy)> list) in results)
        {
            double wall = Statistics.Samples.Median(list.Select(l => l.Wall));
            double cpu = Statistics.Samples.Median(list.Select(l => l.Cpu));
            double busy = Statistics.Samples.Median(list.Select(l => l.Busy));
            string walls = string.Join(" ", list.Select(l => (l.Wall * 1000).ToString("0", CultureInfo.InvariantCulture)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-52} {size / wall / (1L << 30),6:0.00} GiB/s  " +
                $"wall {wall * 1000,6:0} ms  process CPU {cpu * 1000,5:0} ms  machine busy {busy * 1000,5:0} ms  (walls {walls})"));
        }

        return 0;
    }

    /// <summary>One thread per slot, each with its own O_DIRECT handle and block, taking the next offset in turn.</summary>
    /// <summary>Threaded writes, each slot thread generating its blocks' keystream under <paramref name="key"/> (its length picks
    /// AES-128 or AES-256).</summary>
    private static void KeystreamWrites(string device, long size, byte[] key)
    {
        var streams = new ThreadLocal<AesCtrKeystream>(() => new AesCtrKeystream(key, 1), trackAllValues: true);
        Threaded(device, size, true, (_, offset, block) => streams.Value!.Generate(offset, block));
        foreach (AesCtrKeystream stream in streams.Values)
        {
            stream.Dispose();
        }
    }

    private static void Threaded(string device, long size, bool write, Action<int, long, Span<byte>> work)
    {
        SafeFileHandle[] handles = [.. Enumerable.Range(0, Depth).Select(_ => DirectFile.TryOpen(device, null)!)];
        using var pool = new AlignedMemoryPool(BlockSize);
        var blocks = Enumerable.Range(0, Depth).Select(_ => pool.Rent()).ToArray();
        long next = -BlockSize;
        Thread[] threads = [.. Enumerable.Range(0, Depth).Select(t => new Thread(() =>
        {
            Span<byte> block = blocks[t].Memory.Span;
            block.Clear();
            while (true)
            {
                long offset = Interlocked.Add(ref next, BlockSize);
                if (offset >= size)
                {
                    return;
                }

                if (write)
                {
                    work(t, offset, block);
                    RandomAccess.Write(handles[t], block, offset);
                }
                else
                {
                    RandomAccess.Read(handles[t], block, offset);
                    work(t, offset, block);
                }
            }
        }))];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        if (write)
        {
            RandomAccess.FlushToDisk(handles[0]);
        }

        foreach (SafeFileHandle handle in handles)
        {
            handle.Dispose();
        }

        foreach (System.Buffers.IMemoryOwner<byte> block in blocks)
        {
            block.Dispose();
        }

    }

    private static void Keystream(byte[] key, long size, int threads)
    {
        long next = -BlockSize;
        Thread[] all = [.. Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            using var stream = new AesCtrKeystream(key, 1);
            using var pool = new AlignedMemoryPool(BlockSize);
            using System.Buffers.IMemoryOwner<byte> block = pool.Rent();
            while (Interlocked.Add(ref next, BlockSize) is long offset && offset < size)
            {
                stream.Generate(offset, block.Memory.Span);
            }
        }))];
        foreach (Thread thread in all)
        {
            thread.Start();
        }

        foreach (Thread thread in all)
        {
            thread.Join();
        }
    }

    /// <summary>Non-idle CPU seconds of the whole machine so far (/proc/stat, all cores, USER_HZ 100).</summary>
    private static double BusySeconds()
    {
        long[] fields = [.. File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture))];
        return (fields.Sum() - fields[3] - fields[4]) / 100.0;
    }
}
