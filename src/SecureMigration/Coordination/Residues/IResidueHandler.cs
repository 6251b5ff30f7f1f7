namespace SecureMigration.Coordination.Residues;

/// <summary>
/// Disposes of leftover VM data: the source's old image and snapshot after a commit, the destination's partial image
/// after a rollback. The host's default, <see cref="SanitizingResidueHandler"/>, overwrites and verifies before it deletes.
/// Handling the same residue twice (after a crash) must be harmless.
/// </summary>
public interface IResidueHandler
{
    /// <summary>Disposes of <paramref name="residue"/>.</summary>
    /// <param name="residue">The leftover.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What was done, for the audit log.</returns>
    ValueTask<ResidueOutcome> HandleAsync(Residue residue, CancellationToken cancellationToken = default);
}
