using Org.BouncyCastle.Tls;
using SecureMigration.Identity;

namespace SecureMigration.Channel.Tls;

/// <summary>The connecting (source) end's TLS 1.3 peer: mutual authentication, no fallback.</summary>
internal sealed class MigrationTlsClient(HardwareAeadTlsCrypto crypto, ChannelCredentials credentials, PeerPolicy policy,
    TimeProvider timeProvider, HandshakeState state) : DefaultTlsClient(crypto)
{
    protected override ProtocolVersion[] GetSupportedVersions() => TlsPeerConfiguration.Versions;

    protected override int[] GetSupportedCipherSuites() => TlsPeerConfiguration.SuitesFor(credentials);

    public override short[] GetPskKeyExchangeModes() => TlsPeerConfiguration.PskModes;

    public override IList<TlsPskExternal>? GetExternalPsks() => credentials switch
    {
        PskChannelCredentials psk => [TlsPeerConfiguration.CreatePsk(Crypto, psk.IdentityBytes, psk.Key)],
        // This host's name, with the key it shares with the expected peer (checked before the handshake started).
        PskKeyringCredentials keyring when keyring.KeyFor(policy.ExpectedName!) is { } key => [TlsPeerConfiguration.CreatePsk(Crypto,
            keyring.IdentityBytes, key)],
        _ => null,
    };

    public override void NotifySelectedPsk(TlsPsk? selectedPsk)
    {
        base.NotifySelectedPsk(selectedPsk);
        state.PskSelected = selectedPsk is not null;
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        if (TlsPeerConfiguration.IsPsk(credentials))
        {
            if (!state.PskSelected)
            {
                throw TlsPeerConfiguration.PskNotUsed(state);
            }

            // With a keyring, the only other holder of the pair's key is the expected peer.
            state.Peer = TlsPeerConfiguration.PskPeer(credentials, credentials is PskKeyringCredentials ? policy.ExpectedName : null,
                policy, state);
        }

        state.Complete(m_context);
    }

    private void OnServerCertificate(TlsServerCertificate serverCertificate)
    {
        if (credentials is not X509ChannelCredentials x509)
        {
            throw TlsPeerConfiguration.PskNotUsed(state);
        }

        state.Peer = TlsPeerConfiguration.ValidatePeerCertificate(serverCertificate.Certificate, x509, policy,
            peerIsServer: true, timeProvider, state);
    }

    private TlsCredentials OnCertificateRequest(CertificateRequest certificateRequest)
    {
        if (credentials is not X509ChannelCredentials x509)
        {
            throw TlsPeerConfiguration.PskNotUsed(state);
        }

        return TlsPeerConfiguration.CreateSigner(m_context, crypto, x509,
            certificateRequest.SupportedSignatureAlgorithms, certificateRequest.GetCertificateRequestContext(), state);
    }

    private sealed class Authentication(MigrationTlsClient client) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate) => client.OnServerCertificate(serverCertificate);

        public TlsCredentials GetClientCredentials(CertificateRequest certificateRequest) =>
            client.OnCertificateRequest(certificateRequest);
    }
}
