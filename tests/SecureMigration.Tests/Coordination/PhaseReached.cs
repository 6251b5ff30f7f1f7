using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

/// <summary>Completes <see cref="Reached"/> when a progress report names <paramref name="phase"/>.</summary>
internal sealed class PhaseReached(MigrationPhase phase) : IProgress<MigrationProgress>
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Reached => _reached.Task;

    public void Report(MigrationProgress value)
    {
        if (value.Phase == phase)
        {
            _reached.TrySetResult();
        }
    }
}
