namespace SecureMigration.Coordination.Ownership;

/// <summary>
/// A shared registry that also keeps a lease for each migration in flight (etcd: a key bound to a lease its source keeps
/// alive). At most one migration of a VM holds its lease across the cluster, so two orchestrators racing to migrate the
/// same VM are told apart before any byte moves; when an orchestrator dies, its lease expires with its time to live and
/// nothing of it remains in the registry but the ownership record, from which recovery decides. A lease is a lock for
/// liveness, not for safety: the ownership record's compare-and-swap still decides every commit.
/// </summary>
public interface IMigrationLeases
{
    /// <summary>Takes the lease on <paramref name="migration"/>'s VM unless another migration holds it.</summary>
    /// <param name="migration">The migration about to start.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The lease, held until disposed, or the holder's migration.</returns>
    ValueTask<MigrationLease> AcquireAsync(InFlightMigration migration, CancellationToken cancellationToken = default);

    /// <summary>Lists the migrations in flight across the cluster (each holding its lease).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The migrations.</returns>
    ValueTask<IReadOnlyList<InFlightMigration>> ListInFlightAsync(CancellationToken cancellationToken = default);
}
