using System.Net;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Cli.Cluster;

/// <summary>The simulated cluster's PKI, kept in <c>WORK/pki</c> so a later <c>recover</c> or <c>status</c> finds the same host
/// keys.</summary>
internal static class ClusterPki
{
    public static IReadOnlyDictionary<string, X509ChannelCredentials> LoadOrCreate(string workDirectory, IReadOnlyList<string> hosts,
        bool create)
    {
        string directory = Path.Combine(workDirectory, "pki");
        string caCertificate = Path.Combine(directory, "ca.pem");
        if (!File.Exists(caCertificate))
        {
            if (!create)
            {
                throw new ArgumentException($"'{workDirectory}' holds no simulated cluster (no {caCertificate}); run 'secmig demo --work " +
                    $"{workDirectory}' first.");
            }

            using CertificateAuthority ca = CertificateAuthority.Create("SecureMigration Demo CA");
            ca.Export().WriteTo(directory, "ca.pem", "ca.key");
            foreach (string host in hosts)
            {
                ca.IssueHost(host, [IPAddress.Loopback]).WriteTo(directory, host + ".pem", host + ".key");
            }
        }

        return hosts.ToDictionary(
            host => host,
            host => X509ChannelCredentials.FromPemFiles(Path.Combine(directory, host + ".pem"), Path.Combine(directory, host + ".key"),
                caCertificate));
    }
}
