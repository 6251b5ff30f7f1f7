using System.Collections.Concurrent;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Adversary;

/// <summary>A coordinator's progress as signals a test can wait for: one task per phase, completed when it is reached.</summary>
internal sealed class PhaseSignals : IProgress<MigrationProgress>
{
    private readonly ConcurrentDictionary<MigrationPhase, TaskCompletionSource> _reached = new();

    public Task WhenReachedAsync(MigrationPhase phase) => Signal(phase).Task;

    public void Report(MigrationProgress value) => Signal(value.Phase).TrySetResult();

    private TaskCompletionSource Signal(MigrationPhase phase) =>
        _reached.GetOrAdd(phase, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
