using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Org.BouncyCastle.X509;
using SecureMigration.Identity;

namespace SecureMigration.Channel.Tls;

/// <summary>The TLS settings both ends share: TLS 1.3 only, AEAD suites, psk_dhe_ke, credential selection.</summary>
internal static class TlsPeerConfiguration
{
    public static readonly ProtocolVersion[] Versions = ProtocolVersion.TLSv13.Only();

    /// <summary>Certificate mode: AES-256-GCM first (the suite the benchmarks measure).</summary>
    public static readonly int[] CertificateSuites =
    [
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384,
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256,
        Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>PSK mode: the external PSK is bound to SHA-256 (as OpenSSL binds it), so only SHA-256 suites can use it.</summary>
    public static readonly int[] PskSuites =
    [
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256,
        Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    public static readonly short[] PskModes = [PskKeyExchangeMode.psk_dhe_ke];

    public static int[] SuitesFor(ChannelCredentials credentials) => IsPsk(credentials) ? PskSuites : CertificateSuites;

    public static bool IsPsk(ChannelCredentials credentials) => credentials is PskChannelCredentials or PskKeyringCredentials;

    public static string SuiteName(int suite) => suite switch
    {
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        _ => $"0x{suite:X4}",
    };

    public static TlsPskExternal CreatePsk(TlsCrypto crypto, byte[] identity, ReadOnlySpan<byte> key)
    {
        byte[] copy = key.ToArray();
        try
        {
            // The secret keeps a copy of its own; ours is wiped.
            return new BasicTlsPskExternal(identity, crypto.CreateSecret(copy), PrfAlgorithm.tls13_hkdf_sha256);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(copy);
        }
    }

    /// <summary>Builds this end's signing credentials for a scheme the peer offered, or refuses.</summary>
    public static TlsCredentialedSigner CreateSigner(TlsContext context, BcTlsCrypto crypto, X509ChannelCredentials credentials,
        IList<SignatureAndHashAlgorithm>? offered, byte[] requestContext, HandshakeState state)
    {
        SignatureAndHashAlgorithm? scheme = credentials.SignatureAlgorithms.FirstOrDefault(s => offered is null || offered.Contains(s));
        if (scheme is null)
        {
            throw state.Refuse(new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
                "The peer accepts none of the signature schemes this end's key can make. Use an ECDSA P-256 certificate, which every TLS " +
                    "1.3 peer accepts."),
                AlertDescription.handshake_failure);
        }

        CertificateEntry[] entries = credentials.Chain
            .Select(c => new CertificateEntry(crypto.CreateCertificate(c.GetEncoded()), null))
            .ToArray();
        return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, credentials.PrivateKey,
            new Certificate(requestContext, entries), scheme);
    }

    /// <summary>Validates the peer's certificate chain; a refusal becomes a fatal alert carrying the typed failure.</summary>
    public static PeerIdentity ValidatePeerCertificate(Certificate? certificate, X509ChannelCredentials credentials, PeerPolicy policy,
        bool peerIsServer, TimeProvider timeProvider, HandshakeState state)
    {
        if (certificate is null || certificate.IsEmpty)
        {
            throw state.Refuse(new HandshakeFailedException(HandshakeFailureReason.UntrustedChain,
                "The peer presented no certificate; both ends must authenticate. Give the peer a certificate from a CA this end trusts."),
                AlertDescription.certificate_required);
        }

        var parser = new X509CertificateParser();
        var chain = new List<X509Certificate>(certificate.Length);
        for (int i = 0; i < certificate.Length; i++)
        {
            try
            {
                X509Certificate presented = parser.ReadCertificate(certificate.GetCertificateAt(i).GetEncoded());
                _ = presented.GetPublicKey();
                chain.Add(presented);
            }
            catch (Exception e) when (MalformedCertificate.IsCause(e))
            {
                throw state.Refuse(new HandshakeFailedException(HandshakeFailureReason.ProtocolViolation,
                    $"The peer's certificate {i + 1} of {certificate.Length} cannot be read " +
                        $"({Text.UntrustedText.Bound(e.Message, 160)}). " +
                    "Give the peer a certificate that openssl or 'secmig pki' wrote."), AlertDescription.bad_certificate);
            }
        }

        try
        {
            return CertificateChainValidator.Validate(chain, credentials.TrustAnchors, policy, peerIsServer, timeProvider.GetUtcNow());
        }
        catch (CertificateRefusedException e)
        {
            (HandshakeFailureReason reason, short alert) = e.Reason switch
            {
                CertificateRefusal.UntrustedChain => (HandshakeFailureReason.UntrustedChain, AlertDescription.unknown_ca),
                CertificateRefusal.Expired => (HandshakeFailureReason.Expired, AlertDescription.certificate_expired),
                CertificateRefusal.NotYetValid => (HandshakeFailureReason.NotYetValid, AlertDescription.certificate_expired),
                CertificateRefusal.KeyUsage => (HandshakeFailureReason.KeyUsage, AlertDescription.unsupported_certificate),
                CertificateRefusal.WeakAlgorithm => (HandshakeFailureReason.WeakAlgorithm, AlertDescription.unsupported_certificate),
                CertificateRefusal.UnsupportedExtension => (HandshakeFailureReason.UnsupportedExtension,
                    AlertDescription.unsupported_certificate),
                CertificateRefusal.Revoked => (HandshakeFailureReason.Revoked, AlertDescription.certificate_revoked),
                CertificateRefusal.RevocationUnknown => (HandshakeFailureReason.RevocationUnknown, AlertDescription.certificate_unknown),
                CertificateRefusal.NameMismatch => (HandshakeFailureReason.NameMismatch, AlertDescription.access_denied),
                CertificateRefusal.NotAllowed => (HandshakeFailureReason.NotAllowed, AlertDescription.access_denied),
                CertificateRefusal.PinMismatch => (HandshakeFailureReason.PinMismatch, AlertDescription.access_denied),
                _ => throw new ArgumentOutOfRangeException(nameof(e), e.Reason, "A certificate refusal without a handshake reason."),
            };
            throw state.Refuse(new HandshakeFailedException(reason, e.Message), alert);
        }
    }

    /// <summary>The peer of a PSK handshake: the keyring identity it proved, or the shared identity (which proves no host), checked
    /// against the allow-list.</summary>
    public static PeerIdentity PskPeer(ChannelCredentials credentials, string? provenIdentity, PeerPolicy policy, HandshakeState state)
    {
        string identity = provenIdentity ?? credentials.LocalIdentity;
        if (policy.AllowedPeers.Count > 0 && !policy.AllowedPeers.Contains(identity, StringComparer.Ordinal))
        {
            throw state.Refuse(new HandshakeFailedException(HandshakeFailureReason.NotAllowed,
                $"The PSK identity '{Text.UntrustedText.Bound(identity, 160)}' is not on the allow-list."), AlertDescription.access_denied);
        }

        return new PeerIdentity(identity, [identity], null) { IsSharedPsk = credentials is PskChannelCredentials };
    }

    /// <summary>The alert a PSK end sends when the peer insists on certificates.</summary>
    public static TlsFatalAlert PskNotUsed(HandshakeState state) =>
        state.Refuse(new HandshakeFailedException(HandshakeFailureReason.PskMismatch,
        "The peer did not accept this end's pre-shared key (different identity or key). Give both ends the same --psk-file and " +
            "--psk-identity."),
        AlertDescription.handshake_failure);
}
