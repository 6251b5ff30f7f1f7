namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>Counts a host's steps (phase checkpoints, hypervisor and registry calls) and crashes it at the chosen one.</summary>
internal sealed class CrashPlan(int crashAtStep)
{
    private int _steps;

    public bool Crashed { get; private set; }

    public int Steps => _steps;

    public void Step(string where)
    {
        if (Crashed)
        {
            throw new SimulatedCrashException("a dead host: " + where);
        }

        if (Interlocked.Increment(ref _steps) == crashAtStep)
        {
            Crashed = true;
            throw new SimulatedCrashException(where);
        }
    }
}
