using SecureMigration.Coordination.Journal;

namespace SecureMigration.Coordination.Phases;

/// <summary>The legal phase transitions of each role; everything else is a bug or an attack and throws.</summary>
internal static class MigrationStateMachine
{
    private static readonly MigrationPhase[] SourceOrder =
    [
        MigrationPhase.Admitted, MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone, MigrationPhase.ChannelOpen,
        MigrationPhase.Transferring, MigrationPhase.SwitchingOver, MigrationPhase.Committed, MigrationPhase.Cleaned,
            MigrationPhase.Completed,
    ];

    private static readonly MigrationPhase[] DestinationOrder =
    [
        MigrationPhase.ChannelOpen, MigrationPhase.Admitted, MigrationPhase.PreHooksDone, MigrationPhase.Transferring,
        MigrationPhase.SwitchingOver, MigrationPhase.Committed, MigrationPhase.Cleaned, MigrationPhase.Completed,
    ];

    /// <summary>Gets the phase a migration of <paramref name="role"/> starts in.</summary>
    /// <param name="role">The role.</param>
    /// <returns>The first phase.</returns>
    public static MigrationPhase InitialPhase(MigrationRole role) => Order(role)[0];

    /// <summary>Whether a migration in <paramref name="phase"/> has ended (Completed or RolledBack).</summary>
    /// <param name="phase">The phase.</param>
    /// <returns><see langword="true"/> for a final phase.</returns>
    public static bool IsFinal(MigrationPhase phase) => phase is MigrationPhase.Completed or MigrationPhase.RolledBack;

    /// <summary>Whether the ownership epoch has moved in <paramref name="phase"/>, so only rolling forward remains.</summary>
    /// <param name="phase">The phase.</param>
    /// <returns><see langword="true"/> from Committed on.</returns>
    public static bool IsCommitted(MigrationPhase phase) => phase is MigrationPhase.Committed or MigrationPhase.Cleaned or
        MigrationPhase.Completed;

    /// <summary>Whether <paramref name="role"/> may go from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="role">The role.</param>
    /// <param name="from">The current phase.</param>
    /// <param name="to">The next phase.</param>
    /// <returns><see langword="true"/> for a legal transition.</returns>
    public static bool IsLegal(MigrationRole role, MigrationPhase from, MigrationPhase to)
    {
        if (to == MigrationPhase.RollingBack)
        {
            return !IsCommitted(from) && !IsFinal(from) && from != MigrationPhase.RollingBack;
        }

        if (to == MigrationPhase.RolledBack)
        {
            return from == MigrationPhase.RollingBack;
        }

        MigrationPhase[] order = Order(role);
        int index = Array.IndexOf(order, from);
        return index >= 0 && index + 1 < order.Length && order[index + 1] == to;
    }

    /// <summary>Throws unless <paramref name="role"/> may go from <paramref name="from"/> to <paramref name="to"/>.</summary>
    /// <param name="role">The role.</param>
    /// <param name="from">The current phase.</param>
    /// <param name="to">The next phase.</param>
    /// <exception cref="IllegalPhaseTransitionException">The transition is not legal.</exception>
    public static void EnsureLegal(MigrationRole role, MigrationPhase from, MigrationPhase to)
    {
        if (!IsLegal(role, from, to))
        {
            throw new IllegalPhaseTransitionException(role, from, to);
        }
    }

    private static MigrationPhase[] Order(MigrationRole role) => role == MigrationRole.Source ? SourceOrder : DestinationOrder;

    /// <summary>Throws unless <paramref name="record"/> may follow <paramref name="previous"/> (its migration's last record) in a
    /// journal.</summary>
    internal static void EnsureFollows(JournalRecord record, JournalRecord? previous)
    {
        if (previous is null)
        {
            if (record.Phase != MigrationStateMachine.InitialPhase(record.Role))
            {
                throw new IllegalPhaseTransitionException(record.Role, null, record.Phase);
            }

            return;
        }

        if (previous.Role != record.Role || !string.Equals(previous.VmId, record.VmId, StringComparison.Ordinal) ||
            previous.Epoch != record.Epoch)
        {
            throw new ArgumentException($"Migration {record.MigrationId} was journaled as the {previous.Role} of VM '{previous.VmId}' at " +
                $"epoch {previous.Epoch}; a record cannot change its role, VM or epoch.", nameof(record));
        }

        MigrationStateMachine.EnsureLegal(record.Role, previous.Phase, record.Phase);
    }
}
