namespace SecureMigration.Coordination.Snapshots;

/// <summary>
/// Takes no snapshot: for hypervisors whose source VM keeps running through a live migration (QEMU), a rollback
/// simply resumes it, and a copy of its RAM file or disks taken while it runs would be neither consistent nor needed.
/// </summary>
public sealed class NoSnapshotProvider : ISnapshotProvider
{
    /// <summary>Gets the one instance.</summary>
    public static NoSnapshotProvider Instance { get; } = new();

    /// <inheritdoc />
    public ValueTask<string> TakeAsync(Guid migrationId, string vmId, IReadOnlyList<string> images,
        CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(string.Empty);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ReleaseAsync(string location, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<string>>([]);
}
