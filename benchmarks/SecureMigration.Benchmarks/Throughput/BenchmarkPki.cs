using SecureMigration.Channel.Credentials;
using SecureMigration.Pki;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>One throwaway CA and two hosts for every benchmark.</summary>
internal static class BenchmarkPki
{
    private static readonly CertificateAuthority Ca = CertificateAuthority.Create("Benchmark CA");

    public static IssuedCredential Source { get; } = Ca.IssueHost("source.bench", [System.Net.IPAddress.Loopback]);

    public static IssuedCredential Destination { get; } = Ca.IssueHost("destination.bench", [System.Net.IPAddress.Loopback]);

    public static string CaPem => Ca.CertificatePem;

    public static X509ChannelCredentials Credentials(IssuedCredential host) =>
        X509ChannelCredentials.FromPem(host.CertificatePem, host.PrivateKeyPem, Ca.CertificatePem);
}
