using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// Signs what a host vouches for with its X.509 key, and checks such a signature: the envelope's format, the signature
/// over format and payload, optionally that the signer chains to the CA, and the signer's host name (taken from its
/// certificate as the channel takes a peer's).
/// </summary>
internal static class HostSignatures
{
    public static SignedEnvelope Sign(string format, string payload, X509ChannelCredentials signer)
    {
        string algorithm = AlgorithmFor(signer.PrivateKey);
        ISigner engine = SignerUtilities.GetSigner(algorithm);
        engine.Init(true, signer.PrivateKey);
        byte[] message = Message(format, payload);
        engine.BlockUpdate(message, 0, message.Length);
        return new SignedEnvelope(format, payload, algorithm, PemObjects.ToPem(signer.Chain[0]),
            Convert.ToBase64String(engine.GenerateSignature()));
    }

    /// <summary>Checks <paramref name="envelope"/>; with <paramref name="anchors"/>, also that its signer chains to them at
    /// <paramref name="now"/>.</summary>
    public static SignatureCheck Check(SignedEnvelope? envelope, string format, IReadOnlyList<X509Certificate>? anchors, DateTimeOffset now)
    {
        if (envelope is null || envelope.Format != format || envelope.Payload is null || envelope.Signature is null ||
            envelope.SignerCertificate is null)
        {
            return SignatureCheck.Fail($"it is not a '{format}'", null);
        }

        X509Certificate signerCertificate;
        byte[] signature;
        try
        {
            signerCertificate = PemObjects.ReadCertificates(envelope.SignerCertificate, "the signer")[0];
            signature = Convert.FromBase64String(envelope.Signature);
        }
        catch (Exception e) when (e is InvalidCredentialsException or FormatException or ArgumentException)
        {
            return SignatureCheck.Fail($"its signer or signature cannot be read ({e.Message})", null);
        }

        string subject = signerCertificate.SubjectDN.ToString();
        ISigner engine;
        try
        {
            if (envelope.SignatureAlgorithm != AlgorithmFor(signerCertificate.GetPublicKey()))
            {
                return SignatureCheck.Fail($"its signature algorithm '{envelope.SignatureAlgorithm}' does not fit the signer's key",
                    subject);
            }

            engine = SignerUtilities.GetSigner(envelope.SignatureAlgorithm);
            engine.Init(false, signerCertificate.GetPublicKey());
        }
        catch (Exception e) when (e is SecurityUtilityException or ArgumentException or InvalidOperationException)
        {
            return SignatureCheck.Fail($"its signature algorithm cannot be used ({e.Message})", subject);
        }

        byte[] message = Message(format, envelope.Payload);
        engine.BlockUpdate(message, 0, message.Length);
        if (!engine.VerifySignature(signature))
        {
            return SignatureCheck.Fail("the signature does not match: it was changed after it was signed, or signed with another key",
                subject);
        }

        if (anchors is not null)
        {
            try
            {
                CertificateChainValidator.Validate([signerCertificate], anchors, new PeerPolicy(), peerIsServer: false, now);
            }
            catch (CertificateRefusedException e)
            {
                return SignatureCheck.Fail($"the signer '{subject}' is not vouched for by the CA: {e.Message}", subject);
            }
        }

        string signerName = CertificateNames.Read(signerCertificate).Identities(allowCommonNameFallback: true).FirstOrDefault() ?? subject;
        return new SignatureCheck(null, subject, signerName);
    }

    private static byte[] Message(string format, string payload) => Encoding.UTF8.GetBytes(format + "\n" + payload);

    private static string AlgorithmFor(AsymmetricKeyParameter key) => key switch
    {
        ECKeyParameters => "SHA-256withECDSA",
        Ed25519PrivateKeyParameters or Ed25519PublicKeyParameters => "Ed25519",
        RsaKeyParameters => "SHA-256withRSAandMGF1",
        _ => throw new ArgumentException($"A {key.GetType().Name} key cannot sign; use ECDSA, Ed25519 or RSA."),
    };
}
