namespace SecureMigration.Admission.State;

/// <summary>
/// Where the admission state lives between restarts. The controller hands over sealed bytes (with their own
/// checksum), so a store only has to keep them: a file by default, a distributed store for several orchestrators.
/// </summary>
public interface IAdmissionStateStore
{
    /// <summary>Replaces the saved state, atomically: a reader sees the old state or the new one, never a mix.</summary>
    /// <param name="state">The sealed state.</param>
    /// <param name="cancellationToken">Cancels the save.</param>
    /// <returns>A task that completes when the state is durable.</returns>
    ValueTask SaveAsync(ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default);

    /// <summary>Reads the saved state.</summary>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The sealed state, or <see langword="null"/> when none was saved yet.</returns>
    ValueTask<byte[]?> LoadAsync(CancellationToken cancellationToken = default);
}
