using System.Security.Cryptography;
using Org.BouncyCastle.Tls;
using SecureMigration.Identity;

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

    /// <summary>Gets or sets the keyring identity the client offered and proved (accepting end only).</summary>
    public string? PskPeerIdentity { get; set; }

    public byte[]? BindingKey { get; private set; }

    public int CipherSuite { get; private set; }

    /// <summary>The client's application traffic secret, handed to the record layer.</summary>
    public byte[]? ClientTrafficSecret { get; private set; }

    /// <summary>The server's application traffic secret, handed to the record layer.</summary>
    public byte[]? ServerTrafficSecret { get; private set; }

    public TlsFatalAlert Refuse(HandshakeFailedException failure, short alert)
    {
        Failure ??= failure;
        return new TlsFatalAlert(alert, failure.Message, failure);
    }

    /// <summary>
    /// Runs inside <c>NotifyHandshakeComplete</c>: the only moment the exporter secret is available. The
    /// application traffic secrets are taken out of BouncyCastle here (which destroys its copies), because the
    /// data phase runs on <see cref="Records.RecordLayer"/>, not on BouncyCastle's record layer.
    /// </summary>
    public void Complete(TlsContext context)
    {
        SecurityParameters parameters = context.SecurityParameters;
        BindingKey = context.ExportKeyingMaterial(ExporterLabel, null, BindingKeyLength);
        CipherSuite = parameters.CipherSuite;
        ClientTrafficSecret = parameters.TrafficSecretClient.Extract();
        ServerTrafficSecret = parameters.TrafficSecretServer.Extract();
    }

    public void Dispose()
    {
        foreach (byte[]? secret in new[] { BindingKey, ClientTrafficSecret, ServerTrafficSecret })
        {
            if (secret is not null)
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
    }
}
