using System.Security.Cryptography.X509Certificates;

namespace SecureMigration.Etcd;

/// <summary>The certificates an etcd client's TLS holds for its lifetime: this host's, with its key, and the anchors members
/// must chain to; disposed with the client.</summary>
/// <param name="client">The client certificate with its private key.</param>
/// <param name="anchors">The trust anchors for members.</param>
internal sealed class EtcdTlsMaterial(X509Certificate2 client, X509Certificate2Collection anchors) : IDisposable
{
    public void Dispose()
    {
        client.Dispose();
        foreach (X509Certificate2 anchor in anchors)
        {
            anchor.Dispose();
        }
    }
}
