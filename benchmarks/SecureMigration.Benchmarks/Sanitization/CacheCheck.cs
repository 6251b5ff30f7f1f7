using System.Diagnostics;
using System.Globalization;

namespace SecureMigration.Benchmarks.Sanitization;

/// <summary>
/// What the page cache held just after it was dropped: the backing file's resident bytes (<c>fincore</c>), and the
/// kernel's <c>Buffers</c> (block devices' own cache, where a loop device's buffered pages go) and <c>Cached</c> from
/// <c>/proc/meminfo</c>. The check passes when none of the backing file is resident and <c>Buffers</c> is under 32 MiB
/// (a 1 GiB device left cached would show as hundreds of MiB). A backing file in memory (tmpfs) is the device's medium,
/// resident by nature and not a cache: its resident bytes are recorded and only <c>Buffers</c> decides.
/// </summary>
/// <param name="BackingResidentBytes">Bytes of the loop device's backing file in the page cache.</param>
/// <param name="BuffersKiB">Buffers in /proc/meminfo, KiB.</param>
/// <param name="CachedKiB">Cached in /proc/meminfo, KiB.</param>
/// <param name="BackingIsMedium">Whether the backing file's pages are the medium (tmpfs), not a cache of a disk.</param>
internal sealed record CacheCheck(long BackingResidentBytes, long BuffersKiB, long CachedKiB, bool BackingIsMedium = false)
{
    /// <summary>Gets the <c>Buffers</c> limit of a passing check, KiB.</summary>
    public const long BuffersLimitKiB = 32 * 1024;

    /// <summary>Gets the check for cases that use no storage.</summary>
    public static CacheCheck None { get; } = new(-1, -1, -1);

    /// <summary>Gets whether the cache was empty of the target.</summary>
    public bool Passed => (BackingIsMedium || BackingResidentBytes == 0) && BuffersKiB is >= 0 and < BuffersLimitKiB;

    /// <summary>Writes dirty pages back, drops the page cache, dentries and inodes, then checks it.</summary>
    /// <param name="backing">The loop device's backing file.</param>
    /// <param name="backingIsMedium">Whether that file lives in memory (tmpfs): its pages are the device, not a cache.</param>
    public static CacheCheck DropAndCheck(string backing, bool backingIsMedium)
    {
        Run("sync", []);
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
        string resident = Run("fincore", ["--bytes", "--noheadings", "--output", "RES", backing]).Trim();
        Dictionary<string, long> memory = File.ReadLines("/proc/meminfo").Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0], p => long.Parse(p[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        return new CacheCheck(long.Parse(resident, CultureInfo.InvariantCulture), memory["Buffers"], memory["Cached"],
            backingIsMedium);
    }

    private static string Run(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{program} failed with exit code {process.ExitCode}.");
    }
}
