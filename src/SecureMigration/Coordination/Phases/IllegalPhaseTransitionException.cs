namespace SecureMigration.Coordination.Phases;

/// <summary>A migration was asked to move between two phases that its role does not connect.</summary>
public sealed class IllegalPhaseTransitionException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="role">The role of the migration.</param>
    /// <param name="from">The phase it was in, or <see langword="null"/> for a migration not started yet.</param>
    /// <param name="to">The phase it was asked to enter.</param>
    public IllegalPhaseTransitionException(MigrationRole role, MigrationPhase? from, MigrationPhase to)
        : base($"A {role.ToString().ToLowerInvariant()} migration cannot go from {from?.ToString() ?? "nothing"} to {to}; this is a bug " +
            $"in the caller or a forged journal record. The migration keeps its last checkpoint.")
    {
        Role = role;
        From = from;
        To = to;
    }

    /// <summary>Gets the role of the migration.</summary>
    public MigrationRole Role { get; }

    /// <summary>Gets the phase the migration was in, or <see langword="null"/> when it had not started.</summary>
    public MigrationPhase? From { get; }

    /// <summary>Gets the phase it was asked to enter.</summary>
    public MigrationPhase To { get; }
}
