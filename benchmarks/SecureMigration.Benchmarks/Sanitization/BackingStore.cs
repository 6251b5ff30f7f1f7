using System.Diagnostics;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// What holds the loop device's backing file. On tmpfs (or ramfs) the file's pages are the medium itself: they stay
/// resident when the page cache is dropped, no disk or host cache sits behind them, and the device's limit is memory and
/// CPU. A file system without <c>FALLOC_FL_ZERO_RANGE</c> (tmpfs has none) cannot take an offloaded zero: the loop driver's
/// first <c>BLKZEROOUT</c> fails there, the kernel writes zero pages instead and turns the device's WRITE ZEROES off.
/// </summary>
/// <param name="Directory">The directory the backing file is created in.</param>
/// <param name="FileSystem">Its file system type (<c>stat -f -c %T</c>), e.g. <c>ext2/ext3</c> or <c>tmpfs</c>.</param>
/// <param name="Source">Its mount's source (<c>findmnt -o SOURCE</c>), e.g. <c>/dev/vda</c>.</param>
/// <param name="ZeroRange">Whether a file there takes <c>fallocate --zero-range</c>.</param>
internal sealed record BackingStore(string Directory, string FileSystem, string Source, bool ZeroRange)
{
    /// <summary>Gets whether the backing file lives in memory, its pages the device's medium rather than a cache of it.</summary>
    public bool InMemory => FileSystem is "tmpfs" or "ramfs";

    /// <summary>Describes the directory, trying a zero-range fallocate on a scratch file there.</summary>
    public static BackingStore Describe(string directory)
    {
        string probe = Path.Combine(directory, "zero-range-probe");
        bool zeroRange;
        try
        {
            File.WriteAllBytes(probe, new byte[64 * 1024]);
            zeroRange = Run("fallocate", ["--zero-range", "--length", "65536", probe]).ExitCode == 0;
        }
        finally
        {
            File.Delete(probe);
        }

        return new BackingStore(directory, Run("stat", ["-f", "-c", "%T", directory]).Output,
            Run("findmnt", ["-n", "--first-only", "-o", "SOURCE", "--target", directory]).Output, zeroRange);
    }

    /// <summary>The name–value pairs of the run's record.</summary>
    public IEnumerable<KeyValuePair<string, string>> Record() =>
    [
        new("backing_directory", Directory),
        new("backing_filesystem", FileSystem),
        new("backing_disk", Source),
        new("backing_in_memory", InMemory ? "yes: the file's pages are the medium (no disk, no host cache)" : "no"),
        new("backing_zero_range", ZeroRange ? "yes" : "no: the offloaded-zero case is not run"),
    ];

    private static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim());
    }
}
