using System.Security.Cryptography;
using Org.BouncyCastle.Tls;

namespace SecureMigration.Channel.Tls;

/// <summary>What the TLS callbacks learned during one handshake: the peer, the first failure, the binding key.</summary>
internal sealed class HandshakeState : IDisposable
{
    private const string ExporterLabel = "EXPORTER-SecureMigration-ticket";
    private const int BindingKeyLength = 32;

    public PeerIdentity? Peer { get; set; }

    /// <summary>The first failure raised by this end's own checks, kept because BouncyCastle may wrap it.</summary>
    public HandshakeFailedException? Failure { get; private set; }

    public bool PskSelected { get; set; }

    public byte[]? BindingKey { get; private set; }

    public int CipherSuite { get; private set; }

    public TlsFatalAlert Refuse(HandshakeFailedException failure, short alert)
    {
        Failure ??= failure;
        return new TlsFatalAlert(alert, failure.Message, failure);
    }

    /// <summary>Runs inside <c>NotifyHandshakeComplete</c>: the only moment the exporter secret is available.</summary>
    public void Complete(TlsContext context)
    {
        BindingKey = context.ExportKeyingMaterial(ExporterLabel, null, BindingKeyLength);
        CipherSuite = context.SecurityParameters.CipherSuite;
    }

    public void Dispose()
    {
        if (BindingKey is not null)
        {
            CryptographicOperations.ZeroMemory(BindingKey);
        }
    }
}
