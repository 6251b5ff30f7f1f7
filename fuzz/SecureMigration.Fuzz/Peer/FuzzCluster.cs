using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Identity;
using SecureMigration.Testing.Pki;

namespace SecureMigration.Fuzz.Peer;

/// <summary>The targets' cluster: a CA, a source and a destination host (fixed, in Cluster/), and a pre-shared key.</summary>
internal sealed class FuzzCluster
{
    private static readonly Lazy<FuzzCluster> Shared = new(() => new FuzzCluster());
    private readonly byte[] _psk = [.. Enumerable.Range(40, 32).Select(i => (byte)i)];

    private FuzzCluster()
    {
        CaPem = Read("ca.pem");
        SourcePem = new IssuedCredential(Read("source.pem"), Read("source.key"));
        SourceCredentials = X509ChannelCredentials.FromPem(SourcePem.CertificatePem, SourcePem.PrivateKeyPem, CaPem);
        DestinationCredentials = X509ChannelCredentials.FromPem(Read("destination.pem"), Read("destination.key"), CaPem);
    }

    public static FuzzCluster Instance => Shared.Value;

    public string CaPem { get; }

    public IssuedCredential SourcePem { get; }

    public X509ChannelCredentials SourceCredentials { get; }

    public X509ChannelCredentials DestinationCredentials { get; }

    public MigrationTicket Ticket { get; } = MigrationTicket.Create("vm-1", "source.test", "destination.test", 1, TimeSpan.FromDays(3650));

    public SecureChannelFactory Source(bool psk) =>
        Factory(psk ? new PskChannelCredentials("cluster", _psk) : SourceCredentials, "source.test");

    public SecureChannelFactory Destination(bool psk) =>
        Factory(psk ? new PskChannelCredentials("cluster", _psk) : DestinationCredentials, "destination.test");

    private static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Cluster", name));

    private static SecureChannelFactory Factory(ChannelCredentials credentials, string name) =>
        new(new SecureChannelOptions { Credentials = credentials, LocalIdentity = name });
}
