namespace SecureMigration.Etcd;

/// <summary>
/// The etcd cluster did not answer in time (no quorum, no member reachable, TLS refused). It derives from
/// <see cref="IOException"/>, as an unreadable registry file does, so the coordinator treats both alike: before a
/// commit the migration rolls back; after the commit was requested it is in doubt until recovery can ask the registry.
/// </summary>
public sealed class EtcdUnavailableException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoints">The endpoints tried.</param>
    /// <param name="operation">What was asked.</param>
    /// <param name="inner">The gRPC failure.</param>
    public EtcdUnavailableException(string endpoints, string operation, Exception inner)
        : base($"The etcd registry at {endpoints} did not answer {operation} ({inner.Message}). Check that a quorum of its members " +
            "runs and that this host's certificate is accepted (etcd --client-cert-auth with the cluster's CA).", inner)
    {
        Endpoints = endpoints;
    }

    /// <summary>Gets the endpoints tried.</summary>
    public string Endpoints { get; }
}
