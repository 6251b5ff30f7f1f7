using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Sanitization;
using SecureMigration.Storage;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// Times a block-device wipe's fixed costs one by one, warm (after one untimed run of each), on a device the caller gives:
/// the exclusive open with its usage check (holders, mounts, loop devices over it), the slot handles, the sysfs and ioctl
/// probe, the purge probe, the caveats, a flush of nothing new, the close; then whole wipes with their stage stamps (first
/// write report, last write report), and bare writes (one pre-filled block, the same depth and block size, no pipeline,
/// no flush) as the in-process counterpart of fio without <c>end_fsync</c>. Root; the device is overwritten.
/// Usage: <c>dotnet run -c Release -- sanitizer-phases DEVICE [repeats]</c>.
/// </summary>
internal static class PhaseRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        string device = args[0];
        int repeats = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var options = new SanitizerOptions
        {
            AllowBlockDevices = true, Verification = VerificationMode.None, ZeroOffload = ZeroOffload.Never,
        };
        for (int round = 0; round <= repeats; round++)
        {
            var times = new List<(string Phase, double Ms)>();
            double Time(string phase, Action action)
            {
                var clock = Stopwatch.StartNew();
                action();
                double ms = clock.Elapsed.TotalMilliseconds;
                times.Add((phase, ms));
                return ms;
            }

            SafeFileHandle primary = null!;
            WipeHandles handles = null!;
            BlockDeviceProperties properties = null!;
            Time("open O_EXCL + usage check", () => primary = WipeTarget.OpenExclusive(device, Posix.IdentityOf(device), true, false));
            int descriptor = (int)primary.DangerousGetHandle();
            Time("  usage check alone", () => BlockDeviceUsage.InUse(descriptor));
            Time("slot handles (4 + 4)", () => handles = WipeHandles.Open(device, primary, options.WritesInFlight, options.DirectIo));
            Time("device probe (ioctls + sysfs)", () => properties = BlockDeviceProbe.Read(descriptor));
            Time("purge probe", () => PurgeProbe.Probe(descriptor, properties));
            Time("caveats", () => StorageCaveats.For(device, true, true, properties.Size, true));
            Time("flush with nothing new", handles.Flush);
            Time("close", handles.Dispose);
            (double write, double seconds) = await BareWritesAsync(device, properties.Size, options);
            times.Add(("bare writes, no flush (ms)", write * 1000));
            times.Add(("bare writes + flush (ms)", seconds * 1000));
            (write, seconds) = ThreadedWrites(device, properties.Size, options);
            times.Add(("threaded writes, no flush (ms)", write * 1000));
            times.Add(("threaded writes + flush (ms)", seconds * 1000));
            foreach (SanitizationMethod method in new[] { SanitizationMethod.Random, SanitizationMethod.Zero })
            {
                var stages = new StageClock();
                var clock = Stopwatch.StartNew();
                await new BlockSanitizer(options).SanitizeFileAsync(device, method, progress: stages);
                double wall = clock.Elapsed.TotalMilliseconds;
                times.Add(($"{method}: first write report", stages.FirstWrite * 1000));
                times.Add(($"{method}: last write report", stages.LastWrite * 1000));
                times.Add(($"{method}: wall", wall));
            }

            // Both reads follow the same write (the zeros above, then fio's), alternating which goes first.
            for (int order = 0; order < 2; order++)
            {
                foreach (bool verifier in order == round % 2 ? new[] { true, false } : new[] { false, true })
                {
                    File.WriteAllText("/proc/sys/vm/drop_caches", "3");
                    var clock = Stopwatch.StartNew();
                    if (verifier)
                    {
                        long? mismatch = await new BlockSanitizer(options).VerifyFileAsync(device, SanitizationPass.Fill(0));
                        times.Add((mismatch is null ? "verification" : "verification FAILED", clock.Elapsed.TotalMilliseconds));
                    }
                    else
                    {
                        (string json, _, _) = await DeviceBenchRunner.Tool("fio", $"--name=r --filename={device} --ioengine=libaio " +
                            $"--direct=1 --iodepth={options.WritesInFlight} --bs={options.BlockSize} --rw=read --size={properties.Size} " +
                            "--output-format=json", Path.GetTempPath());
                        times.Add(("fio read (its own time)", properties.Size / (DeviceBenchRunner.FioBandwidth(json, "read") *
                            (1L << 30)) * 1000));
                    }
                }
            }

            if (round > 0)
            {
                Console.WriteLine(string.Join("; ", times.Select(t => string.Create(CultureInfo.InvariantCulture,
                    $"{t.Phase} {t.Ms:0.000} ms"))));
            }
        }

        return 0;
    }

    /// <summary>Writes the whole device from one block filled once, <see cref="SanitizerOptions.WritesInFlight"/> at a time; returns
    /// the seconds to the last write's completion and to the end of the flush after it.</summary>
    private static async Task<(double Writes, double WithFlush)> BareWritesAsync(string device, long size, SanitizerOptions options)
    {
        SafeFileHandle[] handles = [.. Enumerable.Range(0, options.WritesInFlight).Select(_ => DirectFile.TryOpen(device, null)!)];
        using var pool = new AlignedMemoryPool(options.BlockSize);
        using System.Buffers.IMemoryOwner<byte> block = pool.Rent();
        block.Memory.Span.Clear();
        var clock = Stopwatch.StartNew();
        var inFlight = new Queue<ValueTask>();
        int slot = 0;
        for (long offset = 0; offset < size; offset += options.BlockSize)
        {
            if (inFlight.Count == options.WritesInFlight)
            {
                await inFlight.Dequeue();
            }

            inFlight.Enqueue(RandomAccess.WriteAsync(handles[slot++ % handles.Length], block.Memory, offset));
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue();
        }

        return FlushAndClose(clock, handles);
    }

    private static (double Writes, double WithFlush) ThreadedWrites(string device, long size, SanitizerOptions options)
    {
        int depth = options.WritesInFlight;
        SafeFileHandle[] handles = [.. Enumerable.Range(0, depth).Select(_ => DirectFile.TryOpen(device, null)!)];
        using var pool = new AlignedMemoryPool(options.BlockSize);
        var blocks = Enumerable.Range(0, depth).Select(_ => pool.Rent()).ToArray();
        long next = -options.BlockSize;
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, depth).Select(t => new Thread(() =>
        {
            blocks[t].Memory.Span.Clear();
            while (true)
            {
                long offset = Interlocked.Add(ref next, options.BlockSize);
                if (offset >= size)
                {
                    return;
                }

                RandomAccess.Write(handles[t], blocks[t].Memory.Span, offset);
            }
        })).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return FlushAndClose(clock, handles);
    }

    /// <summary>The time to the last write, then with the flush of the device; closes the handles.</summary>
    private static (double Writes, double WithFlush) FlushAndClose(Stopwatch clock, SafeFileHandle[] handles)
    {
        double writes = clock.Elapsed.TotalSeconds;
        RandomAccess.FlushToDisk(handles[0]);
        double withFlush = clock.Elapsed.TotalSeconds;
        foreach (SafeFileHandle handle in handles)
        {
            handle.Dispose();
        }

        return (writes, withFlush);
    }
}
