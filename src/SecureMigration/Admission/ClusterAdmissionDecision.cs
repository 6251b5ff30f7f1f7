namespace SecureMigration.Admission;

/// <summary>
/// A cluster's admission verdict: admitted, holding slots in the shared store until <see cref="CompleteAsync"/> reports how
/// the migration ended (or the orchestrator dies and the store drops them), or denied like a local
/// <see cref="AdmissionDecision"/>.
/// </summary>
public sealed class ClusterAdmissionDecision
{
    private Func<MigrationOutcome, ValueTask>? _complete;

    private ClusterAdmissionDecision(AdmissionDecision denial, Func<MigrationOutcome, ValueTask>? complete)
    {
        Denial = denial;
        _complete = complete;
    }

    /// <summary>Gets whether the request was admitted.</summary>
    public bool IsAdmitted => Denial.Reason == AdmissionDenialReason.None;

    /// <summary>Gets the denial (reason, when to ask again, a sentence for people); default when admitted.</summary>
    public AdmissionDecision Denial { get; }

    /// <summary>Creates an admitted decision.</summary>
    /// <param name="complete">Releases the slots and records the outcome; called once.</param>
    /// <returns>The decision.</returns>
    public static ClusterAdmissionDecision Admit(Func<MigrationOutcome, ValueTask> complete)
    {
        ArgumentNullException.ThrowIfNull(complete);
        return new ClusterAdmissionDecision(default, complete);
    }

    /// <summary>Creates a denied decision.</summary>
    /// <param name="denial">The denial.</param>
    /// <returns>The decision.</returns>
    /// <exception cref="ArgumentException"><paramref name="denial"/> admits.</exception>
    public static ClusterAdmissionDecision Deny(AdmissionDecision denial) => denial.IsAdmitted
        ? throw new ArgumentException("A denial must carry a reason.", nameof(denial))
        : new ClusterAdmissionDecision(denial, complete: null);

    /// <summary>Releases the slots and records how the migration ended (a success starts the VM's dwell time and ping-pong
    /// window across the cluster); only the first call counts.</summary>
    /// <param name="outcome">How it ended.</param>
    /// <returns>A task that completes when the store has it; a store out of reach lets the slots expire with their lease.</returns>
    public ValueTask CompleteAsync(MigrationOutcome outcome) =>
        Interlocked.Exchange(ref _complete, null) is { } complete ? complete(outcome) : ValueTask.CompletedTask;
}
