using System.Diagnostics;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// Asserts that nothing in the process spins. A thread stuck in a read loop that neither progresses nor waits burns a
/// core for as long as it runs, so no window of real time is ever quiet; the process's own transient work (tiered JIT
/// recompiling hot methods in the background, a collection, a closing connection) passes in a second or so. The check
/// passes at the first short window in which the whole process used under a quarter of one core, and fails when none of
/// a few seconds' windows is that quiet. The adversarial tests run alone (<see cref="Infrastructure.RunsAloneCollection"/>)
/// so that no other test's work is counted.
/// </summary>
internal static class IdleCpu
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(150);
    private const int Windows = 20;

    public static async Task AssertQuietAsync(string when)
    {
        using Process process = Process.GetCurrentProcess();
        var seen = new List<string>();
        for (int window = 0; window < Windows; window++)
        {
            process.Refresh();
            TimeSpan cpuBefore = process.TotalProcessorTime;
            long started = Stopwatch.GetTimestamp();
            await Task.Delay(Window);
            process.Refresh();
            TimeSpan cpu = process.TotalProcessorTime - cpuBefore;
            TimeSpan wall = Stopwatch.GetElapsedTime(started);
            if (cpu < wall / 4)
            {
                return;
            }

            seen.Add($"{cpu.TotalMilliseconds:0} ms in {wall.TotalMilliseconds:0} ms");
        }

        Assert.Fail($"{when}: the process never went quiet ({string.Join(", ", seen)} of CPU): a thread spins");
    }
}
