using System.Text;
using System.Text.Json;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;
using SecureMigration.Channel;
using SecureMigration.Channel.Credentials;
using SecureMigration.Channel.Validation;
using SecureMigration.Text;

namespace SecureMigration.Sanitization;

/// <summary>
/// Signs certificates of sanitization with the host's X.509 key, so anyone with the CA can check who vouches for a
/// wipe, and checks them: a changed byte, another key or a signer outside the CA is refused.
/// </summary>
public static class SanitizationCertificates
{
    private const string Format = "SecureMigration sanitization certificate v1";

    /// <summary>Signs <paramref name="certificate"/> with the host's private key.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <param name="signer">The host's X.509 credentials.</param>
    /// <returns>The signed certificate, as JSON text.</returns>
    public static string Sign(SanitizationCertificate certificate, X509ChannelCredentials signer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(signer);
        string payload = JsonSerializer.Serialize(certificate, SanitizationJson.Default.SanitizationCertificate);
        string algorithm = AlgorithmFor(signer.PrivateKey);
        ISigner engine = SignerUtilities.GetSigner(algorithm);
        engine.Init(true, signer.PrivateKey);
        byte[] message = Message(payload);
        engine.BlockUpdate(message, 0, message.Length);
        var envelope = new SignedCertificate(Format, payload, algorithm, PemObjects.ToPem(signer.Chain[0]), Convert.ToBase64String(engine.GenerateSignature()));
        return JsonSerializer.Serialize(envelope, SanitizationJson.Default.SignedCertificate);
    }

    /// <summary>Checks a signed certificate; with <paramref name="caBundlePem"/>, also that its signer chains to that CA.</summary>
    /// <param name="signedJson">The signed certificate, as written by <see cref="Sign"/>.</param>
    /// <param name="caBundlePem">The CA bundle the signer must chain to, or <see langword="null"/> to check the signature only.</param>
    /// <param name="timeProvider">The clock for the signer's validity, or <see langword="null"/>.</param>
    /// <returns>What the check found.</returns>
    public static CertificateVerification Verify(string signedJson, string? caBundlePem = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(signedJson);
        SignedCertificate? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(signedJson, SanitizationJson.Default.SignedCertificate);
        }
        catch (JsonException e)
        {
            return new CertificateVerification(false, $"it is not a signed certificate ({e.Message})", null, null);
        }

        if (envelope is null || envelope.Format != Format || envelope.Payload is null || envelope.Signature is null || envelope.SignerCertificate is null)
        {
            return new CertificateVerification(false, $"it is not a '{Format}'", null, null);
        }

        X509Certificate signerCertificate;
        byte[] signature;
        try
        {
            signerCertificate = PemObjects.ReadCertificates(envelope.SignerCertificate, "the certificate's signer")[0];
            signature = Convert.FromBase64String(envelope.Signature);
        }
        catch (Exception e) when (e is InvalidCredentialsException or FormatException or ArgumentException)
        {
            return new CertificateVerification(false, $"its signer or signature cannot be read ({e.Message})", null, null);
        }

        string subject = signerCertificate.SubjectDN.ToString();
        ISigner engine;
        try
        {
            if (envelope.SignatureAlgorithm != AlgorithmFor(signerCertificate.GetPublicKey()))
            {
                return new CertificateVerification(false, $"its signature algorithm '{envelope.SignatureAlgorithm}' does not fit the signer's key", null, subject);
            }

            engine = SignerUtilities.GetSigner(envelope.SignatureAlgorithm);
            engine.Init(false, signerCertificate.GetPublicKey());
        }
        catch (Exception e) when (e is SecurityUtilityException or ArgumentException or InvalidOperationException)
        {
            return new CertificateVerification(false, $"its signature algorithm cannot be used ({e.Message})", null, subject);
        }

        byte[] message = Message(envelope.Payload);
        engine.BlockUpdate(message, 0, message.Length);
        if (!engine.VerifySignature(signature))
        {
            return new CertificateVerification(false, "the signature does not match: the certificate was changed after it was signed, or signed with another key", null, subject);
        }

        if (caBundlePem is not null)
        {
            try
            {
                CertificateChainValidator.Validate([signerCertificate], PemObjects.ReadCertificates(caBundlePem, "the CA bundle"), new PeerPolicy(), peerIsServer: false,
                    (timeProvider ?? TimeProvider.System).GetUtcNow());
            }
            catch (Exception e) when (e is HandshakeFailedException or InvalidCredentialsException)
            {
                return new CertificateVerification(false, $"the signer '{subject}' is not vouched for by the CA: {e.Message}", null, subject);
            }
        }

        SanitizationCertificate? certificate = JsonSerializer.Deserialize(envelope.Payload, SanitizationJson.Default.SanitizationCertificate);
        if (certificate is null)
        {
            return new CertificateVerification(false, "the signed payload holds no certificate", null, subject);
        }

        // The signer vouches for its own wipes only: its name (as the host's identity is taken from it) must be PerformedBy.
        string signerName = CertificateNames.Read(signerCertificate).Identities(allowCommonNameFallback: true).FirstOrDefault() ?? subject;
        return signerName == certificate.PerformedBy
            ? new CertificateVerification(true, null, certificate, subject)
            : new CertificateVerification(false, $"it says the sanitization was performed by '{UntrustedText.Bound(certificate.PerformedBy, 160)}', but it is signed by '{signerName}'", null, subject);
    }

    private static byte[] Message(string payload) => Encoding.UTF8.GetBytes(Format + "\n" + payload);

    private static string AlgorithmFor(AsymmetricKeyParameter key) => key switch
    {
        ECKeyParameters => "SHA-256withECDSA",
        Ed25519PrivateKeyParameters or Ed25519PublicKeyParameters => "Ed25519",
        RsaKeyParameters => "SHA-256withRSAandMGF1",
        _ => throw new ArgumentException($"A {key.GetType().Name} key cannot sign certificates; use ECDSA, Ed25519 or RSA."),
    };
}
