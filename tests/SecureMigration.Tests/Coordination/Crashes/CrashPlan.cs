namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>Counts a host's steps (phase checkpoints, hypervisor and registry calls) and crashes it at the chosen one.</summary>
internal sealed class CrashPlan(int crashAtStep)
{
    private int _steps;

    /// <summary>Gets the crash thrown at the chosen step, once the host reached it; <see langword="null"/> while it has not.</summary>
    public SimulatedCrashException? Crash { get; private set; }

    public int Steps => _steps;

    public void Step(string where)
    {
        if (Crash is not null)
        {
            throw new SimulatedCrashException("a dead host: " + where);
        }

        if (Interlocked.Increment(ref _steps) == crashAtStep)
        {
            Crash = new SimulatedCrashException(where);
            throw Crash;
        }
    }
}
