using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Live;

/// <summary>
/// Where a host's ownership registry is, as <c>--registry</c> names it: a directory both hosts share (the file registry)
/// or an etcd cluster, <c>etcd://host:port,host:port</c>, reached with this host's certificate.
/// </summary>
internal static class RegistryLocation
{
    /// <summary>Whether <paramref name="location"/> names an etcd cluster.</summary>
    public static bool IsEtcd(string location) => location.StartsWith(EtcdRegistryOptions.Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>A directory made absolute; an etcd connection string as it is.</summary>
    public static string Normalize(string location) => IsEtcd(location) ? location : Path.GetFullPath(location);

    /// <summary>Opens the registry at <paramref name="location"/> with this host's <paramref name="credentials"/>.</summary>
    /// <exception cref="ArgumentException">An etcd registry with PSK credentials: etcd's mutual TLS needs a certificate.</exception>
    /// <exception cref="FormatException">The etcd connection string is malformed.</exception>
    public static IOwnershipRegistry Open(string location, ChannelCredentials credentials)
    {
        if (IsEtcd(location))
        {
            return credentials is X509ChannelCredentials x509
                ? new EtcdOwnershipRegistry(EtcdRegistryOptions.Parse(location, x509))
                : throw new ArgumentException("An etcd registry is reached with this host's certificate (--cert, --key, --ca); with " +
                    "pre-shared keys, give --registry a directory both hosts share.");
        }

        // With certificates, every record this host writes is signed and only records signed by their owner are read.
        return credentials is PskKeyringCredentials keyring
            ? new FileOwnershipRegistry(location, timeProvider: null, keyring)
            : new FileOwnershipRegistry(location, signer: credentials as X509ChannelCredentials);
    }
}
