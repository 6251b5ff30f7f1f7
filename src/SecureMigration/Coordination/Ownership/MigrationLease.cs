namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// The answer to <see cref="IMigrationLeases.AcquireAsync"/>: the lease on a VM's migration, held until disposed, or the
/// migration that holds it already. Disposing releases a held lease; if that fails, it expires with its time to live.
/// </summary>
public sealed class MigrationLease : IAsyncDisposable
{
    private Func<ValueTask>? _release;

    private MigrationLease(InFlightMigration holder, Func<ValueTask>? release)
    {
        Holder = holder;
        _release = release;
        IsHeld = release is not null;
    }

    /// <summary>Gets whether the caller holds the lease; otherwise <see cref="Holder"/> does.</summary>
    public bool IsHeld { get; }

    /// <summary>Gets the migration that holds the lease: the caller's when <see cref="IsHeld"/>, another one's otherwise.</summary>
    public InFlightMigration Holder { get; }

    /// <summary>Creates a lease the caller holds until it is disposed.</summary>
    /// <param name="migration">The caller's migration.</param>
    /// <param name="release">Releases the lease; called once.</param>
    /// <returns>The lease.</returns>
    public static MigrationLease Held(InFlightMigration migration, Func<ValueTask> release)
    {
        ArgumentNullException.ThrowIfNull(migration);
        ArgumentNullException.ThrowIfNull(release);
        return new MigrationLease(migration, release);
    }

    /// <summary>Creates the answer that another migration holds the lease.</summary>
    /// <param name="holder">The migration that holds it.</param>
    /// <returns>The answer; disposing it does nothing.</returns>
    public static MigrationLease HeldBy(InFlightMigration holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        return new MigrationLease(holder, release: null);
    }

    /// <summary>Releases the lease if the caller holds it.</summary>
    /// <returns>A task that completes when it is released.</returns>
    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _release, null) is { } release ? release() : ValueTask.CompletedTask;
}
