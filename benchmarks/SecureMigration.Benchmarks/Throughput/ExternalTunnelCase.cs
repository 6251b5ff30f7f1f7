namespace SecureMigration.Benchmarks.Throughput;

/// <summary>Placeholder list of external tunnel baselines (stunnel, socat) measured when installed.</summary>
internal static class ExternalTunnelCase
{
    public static IEnumerable<ITransportCase> Available() => [];
}
