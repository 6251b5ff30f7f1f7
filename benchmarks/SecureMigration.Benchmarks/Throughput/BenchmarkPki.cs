using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Benchmarks.Throughput;

/// <summary>One throwaway CA and two hosts for every benchmark.</summary>
internal static class BenchmarkPki
{
    public const string SourceName = "source.bench";

    public const string DestinationName = "destination.bench";

    private static readonly CertificateAuthority Ca = CertificateAuthority.Create("Benchmark CA");

    public static IssuedCredential Source { get; } = Ca.IssueHost(SourceName, [System.Net.IPAddress.Loopback]);

    public static IssuedCredential Destination { get; } = Ca.IssueHost(DestinationName, [System.Net.IPAddress.Loopback]);

    public static string CaPem => Ca.CertificatePem;

    /// <summary>Gets the CA itself, which also issues the certificates of a benchmark's etcd members.</summary>
    public static CertificateAuthority Authority => Ca;

    public static X509ChannelCredentials Credentials(IssuedCredential host) =>
        X509ChannelCredentials.FromPem(host.CertificatePem, host.PrivateKeyPem, Ca.CertificatePem);

    /// <summary>Writes ca.pem, source.pem/.key and destination.pem/.key into <paramref name="directory"/>, as tools read them.</summary>
    public static void WriteFiles(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "ca.pem"), CaPem);
        if (!File.Exists(Path.Combine(directory, "source.key")))
        {
            // Keys are never overwritten; the same static credentials are already there.
            Source.WriteTo(directory, "source.pem", "source.key");
            Destination.WriteTo(directory, "destination.pem", "destination.key");
        }
    }

    /// <summary>The secmig credential options for <paramref name="host"/> ("source" or "destination") from
    /// <see cref="WriteFiles"/>.</summary>
    public static string[] Arguments(string directory, string host) =>
        ["--cert", Path.Combine(directory, host + ".pem"), "--key", Path.Combine(directory, host + ".key"), "--ca", Path.Combine(directory,
            "ca.pem")];
}
