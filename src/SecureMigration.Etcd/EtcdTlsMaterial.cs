using System.Security.Cryptography.X509Certificates;

namespace SecureMigration.Etcd;

/// <summary>The certificates an etcd client's TLS holds for its lifetime: this host's, with its key (replaced by a rotation: new
/// connections present the new one), and the anchors members must chain to; disposed with the client.</summary>
/// <param name="client">The client certificate with its private key.</param>
/// <param name="anchors">The trust anchors for members.</param>
internal sealed class EtcdTlsMaterial(X509Certificate2 client, X509Certificate2Collection anchors) : IDisposable
{
    private readonly List<X509Certificate2> _retired = [];
    private volatile X509Certificate2 _client = client;

    /// <summary>Gets the client certificate new connections present.</summary>
    public X509Certificate2 Client => _client;

    /// <summary>Presents <paramref name="renewed"/> on new connections; the one it replaces lives until the client is disposed, since
    /// a connection being opened may still hold it.</summary>
    public void Rotate(X509Certificate2 renewed)
    {
        lock (_retired)
        {
            _retired.Add(_client);
            _client = renewed;
        }
    }

    public void Dispose()
    {
        lock (_retired)
        {
            _client.Dispose();
            foreach (X509Certificate2 certificate in _retired.Concat(anchors))
            {
                certificate.Dispose();
            }
        }
    }
}
