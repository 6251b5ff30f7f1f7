namespace SecureMigration.Admission;

/// <summary>
/// Admission shared by every orchestrator of a cluster, through a store they all reach (etcd): the concurrency caps
/// (cluster, per host out and in), the global retry budget, and the dwell time and ping-pong history of each VM. The
/// local <see cref="AdmissionController"/> decides first (the per-VM fast path: breakers, backoff, budgets, rates, without
/// a round trip); a request it admits then asks the cluster, with the same <see cref="AdmissionOptions"/>.
/// </summary>
public interface IClusterAdmission
{
    /// <summary>Decides <paramref name="request"/> across the cluster; an admitted request holds its slots until completed.</summary>
    /// <param name="request">The request the local controller admitted.</param>
    /// <param name="options">The caps, windows and budgets, as the local controller has them.</param>
    /// <param name="cancellationToken">Cancels the decision.</param>
    /// <returns>Admitted with slots to complete, or denied with a reason and when to ask again.</returns>
    /// <exception cref="IOException">The store cannot be reached; nothing is held.</exception>
    ValueTask<ClusterAdmissionDecision> TryAdmitAsync(MigrationRequest request, AdmissionOptions options,
        CancellationToken cancellationToken = default);
}
