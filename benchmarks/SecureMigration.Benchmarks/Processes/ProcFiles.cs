using System.Globalization;

namespace SecureMigration.Benchmarks.Processes;

/// <summary>Reads a process's counters from <c>/proc</c>; every read returns <see langword="null"/> once the process is gone.</summary>
internal static class ProcFiles
{
    private const double TicksPerSecond = 100; // USER_HZ, which the kernel's /proc interface always uses on Linux x64

    /// <summary>The processor seconds of all the process's threads, live and exited, and of its reaped children
    /// (utime + stime + cutime + cstime of <c>/proc/PID/stat</c>).</summary>
    public static double? Seconds(int pid) => StatSeconds($"/proc/{pid}/stat");

    /// <summary>The processor seconds of one thread of a process.</summary>
    public static double? ThreadSeconds(int pid, int thread) => StatSeconds($"/proc/{pid}/task/{thread}/stat");

    private static double? StatSeconds(string path)
    {
        string? stat = Read(path);
        if (stat is null)
        {
            return null;
        }

        // Fields after the command (which may hold spaces) start at field 3 (state); utime is field 14.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>The voluntary and involuntary context switches of each of the process's live threads (the kernel keeps them per
    /// thread in <c>/proc/PID/task/TID/status</c>).</summary>
    public static IEnumerable<(int Thread, long Voluntary, long Involuntary)> Switches(int pid)
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        foreach (string task in tasks)
        {
            if (Read(Path.Combine(task, "status")) is not { } status)
            {
                continue;
            }

            long Field(string name)
            {
                int at = status.IndexOf(name, StringComparison.Ordinal) + name.Length;
                return long.Parse(status.AsSpan(at, status.IndexOf('\n', at) - at).Trim(), CultureInfo.InvariantCulture);
            }

            yield return (int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), Field("\nvoluntary_ctxt_switches:"),
                Field("\nnonvoluntary_ctxt_switches:"));
        }
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
    }
}
