using System.Diagnostics;
using System.Globalization;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Asserts that nothing in the process spins. A thread stuck in a read loop that neither progresses nor waits burns a
/// core for as long as it runs, so no window of real time is ever quiet; the process's own transient work (a closing
/// connection, a collection) passes in a second or so. The check passes at the first short window in which the
/// process's threads used under half of one core, and fails when none of a few seconds' windows is that quiet, naming
/// the busiest threads. (A spinning thread uses a whole core in every window; with a quarter as the bound, one CI run in
/// four failed on pool and timer threads at 27-40 % of a core for three seconds after a case, which no spin explains.) The runtime's own compiler and GC threads (tiered JIT recompiling hot methods after
/// many tests have run, background collections) are not counted: they are no code of ours and can run for seconds.
/// The adversarial tests run alone (<see cref="Infrastructure.RunsAloneCollection"/>) so that no other test's work is
/// counted.
/// </summary>
internal static class IdleCpu
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(150);
    private const int Windows = 20;
    private const double TicksPerSecond = 100; // USER_HZ, the unit of /proc's CPU times on Linux
    private static readonly string[] RuntimeThreads = [".NET Tiered Com", ".NET BGC", ".NET Server GC", ".NET Finalizer"];

    public static async Task AssertQuietAsync(string when)
    {
        var seen = new List<string>();
        for (int window = 0; window < Windows; window++)
        {
            Dictionary<int, (string Name, long Ticks)> before = Threads();
            long started = Stopwatch.GetTimestamp();
            await Task.Delay(Window);
            Dictionary<int, (string Name, long Ticks)> after = Threads();
            TimeSpan wall = Stopwatch.GetElapsedTime(started);
            var busy = after
                .Where(t => !RuntimeThreads.Any(r => t.Value.Name.StartsWith(r, StringComparison.Ordinal)))
                .Select(t => (t.Value.Name, Ticks: t.Value.Ticks - (before.TryGetValue(t.Key, out var b) ? b.Ticks : 0)))
                .Where(t => t.Ticks > 0)
                .OrderByDescending(t => t.Ticks)
                .ToList();
            TimeSpan cpu = TimeSpan.FromSeconds(busy.Sum(t => t.Ticks) / TicksPerSecond);
            if (cpu < wall / 2)
            {
                return;
            }

            seen.Add($"{cpu.TotalMilliseconds:0} ms in {wall.TotalMilliseconds:0} ms: " +
                $"{string.Join(", ", busy.Take(3).Select(t => $"'{t.Name}' {t.Ticks * 10} ms"))}");
        }

        Assert.Fail($"{when}: the process never went quiet ({string.Join("; ", seen.Take(5))} ...): a thread spins");
    }

    /// <summary>Each thread of this process: its name and the CPU it used so far, in clock ticks (/proc/self/task).</summary>
    private static Dictionary<int, (string Name, long Ticks)> Threads()
    {
        var threads = new Dictionary<int, (string, long)>();
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(task, "stat"));
                // pid (comm) state ... field 14 utime, 15 stime; comm may hold spaces and parentheses, so split after its last ')'.
                int close = stat.LastIndexOf(')');
                string name = stat[(stat.IndexOf('(') + 1)..close];
                string[] fields = stat[(close + 2)..].Split(' ');
                long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (name, ticks);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended while it was read.
            }
        }

        return threads;
    }
}
