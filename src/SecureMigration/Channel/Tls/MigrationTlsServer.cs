using System.Security.Cryptography;
using Org.BouncyCastle.Tls;
using SecureMigration.Identity;

namespace SecureMigration.Channel.Tls;

/// <summary>The accepting (destination) end's TLS 1.3 peer: it always asks for the client's certificate or PSK.</summary>
internal sealed class MigrationTlsServer(HardwareAeadTlsCrypto crypto, ChannelCredentials credentials, PeerPolicy policy,
    TimeProvider timeProvider, HandshakeState state) : DefaultTlsServer(crypto)
{
    protected override ProtocolVersion[] GetSupportedVersions() => TlsPeerConfiguration.Versions;

    protected override int[] GetSupportedCipherSuites() => TlsPeerConfiguration.SuitesFor(credentials);

    public override short[] GetPskKeyExchangeModes() => TlsPeerConfiguration.PskModes;

    public override TlsPskExternal? GetExternalPsk(IList<PskIdentity> identities)
    {
        foreach (PskIdentity identity in identities)
        {
            byte[] offered = identity.Identity;
            switch (credentials)
            {
                case PskChannelCredentials psk when offered.Length == psk.IdentityBytes.Length &&
                    CryptographicOperations.FixedTimeEquals(offered, psk.IdentityBytes):
                    state.PskSelected = true;
                    return TlsPeerConfiguration.CreatePsk(Crypto, psk.IdentityBytes, psk.Key);
                // A peer offering this host's own name would be a reflection of this host's own connection: never selected.
                case PskKeyringCredentials keyring when offered.Length <= PskChannelCredentials.MaximumIdentityLength &&
                    DecodeIdentity(offered) is { } peer &&
                    !string.Equals(peer, keyring.LocalIdentity, StringComparison.Ordinal) && keyring.KeyFor(peer) is { } key:
                    // The offered identity is the peer's host name; only that host and this one hold the pair's key.
                    state.PskSelected = true;
                    state.PskPeerIdentity = peer;
                    return TlsPeerConfiguration.CreatePsk(Crypto, offered, key);
            }
        }

        return null;
    }

    private static string? DecodeIdentity(byte[] offered)
    {
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(offered);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public override CertificateRequest? GetCertificateRequest()
    {
        if (credentials is not X509ChannelCredentials)
        {
            return null;
        }

        // TLS 1.3: an empty request context, and every signature scheme this end can verify.
        return new CertificateRequest(TlsUtilities.EmptyBytes, TlsUtilities.GetDefaultSupportedSignatureAlgorithms(m_context), null, null);
    }

    public override void NotifyClientCertificate(Certificate clientCertificate)
    {
        if (credentials is not X509ChannelCredentials x509)
        {
            throw TlsPeerConfiguration.PskNotUsed(state);
        }

        state.Peer = TlsPeerConfiguration.ValidatePeerCertificate(clientCertificate, x509, policy, peerIsServer: false, timeProvider,
            state);
    }

    public override TlsCredentials GetCredentials()
    {
        if (credentials is not X509ChannelCredentials x509)
        {
            // The client offered no matching PSK identity; a PSK end has no certificate to fall back to.
            throw TlsPeerConfiguration.PskNotUsed(state);
        }

        return TlsPeerConfiguration.CreateSigner(m_context, crypto, x509,
            m_context.SecurityParameters.ClientSigAlgs, TlsUtilities.EmptyBytes, state);
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        if (TlsPeerConfiguration.IsPsk(credentials))
        {
            state.Peer = TlsPeerConfiguration.PskPeer(credentials, state.PskPeerIdentity, policy, state);
        }

        state.Complete(m_context);
    }
}
