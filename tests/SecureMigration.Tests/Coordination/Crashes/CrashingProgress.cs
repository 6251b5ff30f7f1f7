using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>Progress is reported right after each checkpoint is durable: a crash here is a crash at a phase boundary.</summary>
internal sealed class CrashingProgress(CrashPlan plan) : IProgress<MigrationProgress>
{
    private MigrationPhase? _last;

    public void Report(MigrationProgress value)
    {
        if (value.Phase != _last)
        {
            _last = value.Phase;
            plan.Step("entering " + value.Phase);
        }
    }
}
