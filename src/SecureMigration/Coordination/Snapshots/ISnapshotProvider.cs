namespace SecureMigration.Coordination.Snapshots;

/// <summary>Takes a snapshot of a VM's images before the transfer and gives it back when the migration ends.</summary>
public interface ISnapshotProvider
{
    /// <summary>Takes a snapshot of <paramref name="images"/>.</summary>
    /// <param name="migrationId">The migration that keeps it.</param>
    /// <param name="vmId">The VM.</param>
    /// <param name="images">The files to snapshot.</param>
    /// <param name="cancellationToken">Cancels the snapshot.</param>
    /// <returns>Where the snapshot is, as the journal records it.</returns>
    ValueTask<string> TakeAsync(Guid migrationId, string vmId, IReadOnlyList<string> images, CancellationToken cancellationToken = default);

    /// <summary>Releases a snapshot once its migration ended; returns what holds its data, for the residue handler. Releasing twice is
    /// harmless.</summary>
    /// <param name="location">Where the snapshot is.</param>
    /// <param name="cancellationToken">Cancels the release.</param>
    /// <returns>The files or directories left to dispose of.</returns>
    ValueTask<IReadOnlyList<string>> ReleaseAsync(string location, CancellationToken cancellationToken = default);
}
