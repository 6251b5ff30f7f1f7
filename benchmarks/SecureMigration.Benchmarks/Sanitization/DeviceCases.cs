using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Sanitization;
using SecureMigration.Storage;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// The cases of the device bench, in groups that run together (a read right after the write it reads, a device restored
/// after an offloaded zero); the runner rotates the groups' order each round. Without <paramref name="zeroOffload"/> (a
/// backing file system with no zero-range fallocate) the offloaded zero is not run. fio's buffers come from
/// <paramref name="fioMemory"/> (its <c>--iomem</c>, <see cref="FioBufferPages"/>).
/// </summary>
internal sealed class DeviceCases(string device, string directory, long size, int blockSize, int queueDepth, bool zeroOffload,
    string fioMemory)
{
    /// <summary>fio's sequential write, the baseline of every fill.</summary>
    public const string FioWrite = "fio write (libaio, O_DIRECT)";

    /// <summary>fio's sequential write of fresh pseudo-random data in every block (<c>refill_buffers</c>): what fresh data, rather
    /// than one buffer sent again, costs a writer. Context for the random pass, not its target's baseline.</summary>
    public const string FioWriteFresh = "fio write, fresh random blocks";

    /// <summary>fio's sequential read, verification's baseline.</summary>
    public const string FioRead = "fio read (libaio, O_DIRECT)";

    /// <summary>dd's zeros with O_DIRECT.</summary>
    public const string Dd = "dd zeros oflag=direct";

    /// <summary>shred's one random pass.</summary>
    public const string Shred = "shred -n 1";

    /// <summary>nwipe's PRNG stream pass.</summary>
    public const string Nwipe = "nwipe PRNG pass";

    /// <summary>The sanitizer's zeros, written.</summary>
    public const string Zero = "sanitizer zero (written)";

    /// <summary>The sanitizer's zeros, offloaded.</summary>
    public const string Offloaded = "sanitizer zero (offloaded, BLKZEROOUT)";

    /// <summary>The sanitizer's 0xFF.</summary>
    public const string Ones = "sanitizer ones";

    /// <summary>The sanitizer's keystream pass.</summary>
    public const string Random = "sanitizer random";

    /// <summary>The sanitizer's full verification of zeros.</summary>
    public const string Verify = "sanitizer full verification";

    /// <summary>NIST Clear.</summary>
    public const string Nist = "sanitizer NIST Clear (+sampled verify)";

    /// <summary>DoD 5220.22-M.</summary>
    public const string DoD = "sanitizer DoD 3 passes (+sampled verify)";

    /// <summary>Gutmann.</summary>
    public const string Gutmann = "sanitizer Gutmann 35 passes";

    /// <summary>A step: a named, measured case, or an unnamed one run but not reported.</summary>
    public sealed record Step(string? Name, string Kind, Func<Task<(long Bytes, double Seconds, double Cpu, string Note)>> Run);

    /// <summary>Steps that run together.</summary>
    public sealed record Group(params Step[] Steps);

    /// <summary>Gets the groups, in the first round's order.</summary>
    public Group[] Groups() => zeroOffload ? [.. Written(), OffloadedZero()] : Written();

    private Group[] Written() =>
    [
        new(new Step(FioWrite, "write", () => Fio("write")), new Step(FioRead, "read", () => Fio("read"))),
        new(new Step(FioWriteFresh, "write", () => Fio("write", " --refill_buffers=1"))),
        new(new Step(Dd, "write", () => External(
            $"dd if=/dev/zero of={device} bs={blockSize} count={size / blockSize} oflag=direct conv=fsync"))),
        new(new Step(Shred, "write", () => External($"shred -n 1 {device}"))),
        new(new Step(Nwipe, "write", () => External(
            $"nwipe --autonuke --nogui --nowait --method=random --verify=off --noblank --rounds=1 " +
            $"--logfile={Path.Combine(directory, "nwipe.log")} {device}"))),
        new(new Step(Zero, "write", () => Sanitize(SanitizationMethod.Zero, ZeroOffload.Never)), new Step(Verify, "read", VerifyAsync)),
        new(new Step(Ones, "write", () => Sanitize(SanitizationMethod.Ones, ZeroOffload.Never))),
        new(new Step(Random, "write", () => Sanitize(SanitizationMethod.Random, ZeroOffload.Never))),
        new(new Step(Nist, "write", () => Sanitize(SanitizationMethod.NistClear, ZeroOffload.Never))),
        new(new Step(DoD, "write", () => Sanitize(SanitizationMethod.DoD522022M, ZeroOffload.Never))),
        new(new Step(Gutmann, "write", () => Sanitize(SanitizationMethod.Gutmann, ZeroOffload.Never))),
    ];

    // An offloaded zero leaves the backing file's blocks unwritten (the loop driver's fallocate): reads of them cost
    // nothing and the next write converts them, so an unmeasured fio write restores the device before the next group.
    private Group OffloadedZero() =>
        new(new Step(Offloaded, "write", () => Sanitize(SanitizationMethod.Zero, ZeroOffload.Require)),
            new Step(null, "write", () => Fio("write")));

    private BlockSanitizer Sanitizer(ZeroOffload offload) => new(new SanitizerOptions
    {
        AllowBlockDevices = true,
        Verification = VerificationMode.None,
        BlockSize = blockSize,
        WritesInFlight = queueDepth,
        ZeroOffload = offload,
    });

    private async Task<(long, double, double, string)> Sanitize(SanitizationMethod method, ZeroOffload offload)
    {
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var stages = new StageClock();
        SanitizationReport report = await Sanitizer(offload).SanitizeFileAsync(device, method, progress: stages);
        double seconds = clock.Elapsed.TotalSeconds;
        if (!report.Succeeded)
        {
            throw new InvalidOperationException($"{method} on {device} did not succeed.");
        }

        return (size * report.Passes.Count, seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds,
            string.Create(CultureInfo.InvariantCulture, $"first write report {stages.FirstWrite:0.000} s, last " +
            $"{stages.LastWrite:0.000} s, wall {seconds:0.000} s; {report.Verification}; " +
            $"{string.Join(" | ", report.PassPaths.Distinct())}"));
    }

    /// <summary>
    /// Full verification of the zeros, through the verifier a wipe with <see cref="VerificationMode.Full"/> runs after its
    /// last pass, with the arguments <see cref="BlockSanitizer.VerifyFileAsync"/> gives it, so the bench can assert that
    /// every byte was verified (VerifyFileAsync once sized a device as 0 bytes and checked nothing; docs/benchmarks.md, issue 20).
    /// </summary>
    private async Task<(long, double, double, string)> VerifyAsync()
    {
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var options = new SanitizerOptions { BlockSize = blockSize, WritesInFlight = queueDepth };
        SafeFileHandle read = NoFollowFile.Open(device, FileMode.Open, FileAccess.Read);
        long? mismatch;
        long verified;
        using (WipeHandles handles = WipeHandles.Open(device, read, options.WritesInFlight, options.DirectIo))
        {
            var plan = new WipePlan([new Extent(0, size)], options.BlockSize);
            (mismatch, verified) = await WipeVerifier.VerifyAsync(options, SanitizationPass.Fill(0), null, plan, handles, default,
                CancellationToken.None);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        return mismatch is null && verified == size
            ? (size, seconds, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds, $"all {verified} bytes zero")
            : throw new InvalidOperationException($"Verification: mismatch at {mismatch}, {verified} of {size} bytes verified.");
    }

    /// <summary>
    /// fio at the sanitizer's block size and depth; its time is the one fio reports (first I/O to last, without its start-up
    /// of about half a second), a stricter baseline than its wall time. The wall time and fio's bandwidth go in the note.
    /// </summary>
    private async Task<(long, double, double, string)> Fio(string direction, string more = "")
    {
        string arguments = $"--name=seq{direction} --filename={device} --ioengine=libaio --direct=1 --iodepth={queueDepth} " +
            $"--bs={blockSize} --rw={direction} --size={size} --iomem={fioMemory} --output-format=json" +
            (direction == "write" ? " --end_fsync=1" : "") + more;
        (string text, double wall, double cpu) = await DeviceBenchRunner.Tool("fio", arguments, directory);
        double bandwidth = DeviceBenchRunner.FioBandwidth(text, direction);
        return (size, size / (bandwidth * (1L << 30)), cpu, string.Create(CultureInfo.InvariantCulture,
            $"fio's own bw {bandwidth:0.000} GiB/s; wall {wall:0.000} s"));
    }

    private async Task<(long, double, double, string)> External(string command)
    {
        int space = command.IndexOf(' ', StringComparison.Ordinal);
        (_, double seconds, double cpu) = await DeviceBenchRunner.Tool(command[..space], command[(space + 1)..], directory);
        return (size, seconds, cpu, "");
    }
}
