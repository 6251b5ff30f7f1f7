using System.Text.Json;
using Org.BouncyCastle.X509;
using SecureMigration.Identity;
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
        return JsonSerializer.Serialize(HostSignatures.Sign(Format, payload, signer), SanitizationJson.Default.SignedEnvelope);
    }

    /// <summary>Checks a signed certificate; with <paramref name="caBundlePem"/>, also that its signer chains to that CA.</summary>
    /// <param name="signedJson">The signed certificate, as written by <see cref="Sign"/>.</param>
    /// <param name="caBundlePem">The CA bundle the signer must chain to, or <see langword="null"/> to check the signature only.</param>
    /// <param name="timeProvider">The clock for the signer's validity, or <see langword="null"/>.</param>
    /// <returns>What the check found.</returns>
    public static CertificateVerification Verify(string signedJson, string? caBundlePem = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(signedJson);
        SignedEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize(signedJson, SanitizationJson.Default.SignedEnvelope);
        }
        catch (JsonException e)
        {
            return new CertificateVerification(false, $"it is not a signed certificate ({e.Message})", null, null);
        }

        IReadOnlyList<X509Certificate>? anchors;
        try
        {
            anchors = caBundlePem is null ? null : PemObjects.ReadCertificates(caBundlePem, "the CA bundle");
        }
        catch (InvalidCredentialsException e)
        {
            return new CertificateVerification(false, $"the CA bundle cannot be read: {e.Message}", null, null);
        }

        SignatureCheck check = HostSignatures.Check(envelope, Format, anchors, (timeProvider ?? TimeProvider.System).GetUtcNow());
        if (check.Problem is not null)
        {
            return new CertificateVerification(false, check.Problem, null, check.Subject);
        }

        SanitizationCertificate? certificate;
        try
        {
            certificate = JsonSerializer.Deserialize(envelope!.Payload, SanitizationJson.Default.SanitizationCertificate);
        }
        catch (JsonException e)
        {
            return new CertificateVerification(false, $"the signed payload is not a certificate ({e.Message})", null, check.Subject);
        }

        if (certificate is null)
        {
            return new CertificateVerification(false, "the signed payload holds no certificate", null, check.Subject);
        }

        // The signer vouches for its own wipes only: its name (as the host's identity is taken from it) must be PerformedBy.
        return check.SignerName == certificate.PerformedBy
            ? new CertificateVerification(true, null, certificate, check.Subject)
            : new CertificateVerification(false, $"it says the sanitization was performed by " +
                $"'{UntrustedText.Bound(certificate.PerformedBy, 160)}', but it is signed by '{check.SignerName}'", null, check.Subject);
    }
}
