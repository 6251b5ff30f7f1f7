using System.Globalization;

namespace SecureMigration.Benchmarks.Processes;

/// <summary>
/// What a process that starts and exits within a trial used, from <c>wait4</c>'s rusage: the process runs under GNU
/// <c>/usr/bin/time</c>, which writes its children's user and system time and context switches to a file when it exits
/// (all threads, exited ones included, and reaped children).
/// </summary>
internal static class ExitUsage
{
    /// <summary>Gets whether GNU time is installed.</summary>
    public static bool Available => File.Exists(Time);

    private const string Time = "/usr/bin/time";

    /// <summary>The program and arguments that run <paramref name="program"/> under GNU time, writing to <paramref name="file"/>.</summary>
    public static (string Program, List<string> Arguments) Wrap(string file, string program, IEnumerable<string> arguments)
    {
        File.Delete(file);
        return (Time, ["-o", file, "-f", "%U %S %w %c", program, .. arguments]);
    }

    /// <summary>Reads what time wrote; <see langword="null"/> while the process runs (or when it was killed).</summary>
    public static CpuUsage? Read(string file)
    {
        string? line = File.Exists(file) ? File.ReadLines(file).LastOrDefault(l => l.Length > 0) : null;
        string[]? fields = line?.Split(' ');
        if (fields is not { Length: 4 } || !double.TryParse(fields[0], CultureInfo.InvariantCulture, out double user))
        {
            return null;
        }

        return new CpuUsage(user + double.Parse(fields[1], CultureInfo.InvariantCulture),
            long.Parse(fields[2], CultureInfo.InvariantCulture), long.Parse(fields[3], CultureInfo.InvariantCulture));
    }
}
