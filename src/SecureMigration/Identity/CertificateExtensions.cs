using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// The extensions this end processes. RFC 5280 §4.2: a certificate with a critical extension the validator does
/// not process must be refused. Name constraints are not evaluated, so a CA that carries them is refused rather
/// than trusted beyond its constraints.
/// </summary>
internal static class CertificateExtensions
{
    private static readonly HashSet<string> Processed =
    [
        X509Extensions.BasicConstraints.Id,
        X509Extensions.KeyUsage.Id,
        X509Extensions.ExtendedKeyUsage.Id,
        X509Extensions.SubjectAlternativeName.Id,
    ];

    public static void Check(X509Certificate certificate)
    {
        if (certificate.GetExtensionValue(X509Extensions.NameConstraints) is not null)
        {
            throw Refuse(certificate, X509Extensions.NameConstraints.Id,
                "name constraints, which this end does not evaluate. Use a dedicated CA for migration hosts without name constraints");
        }

        foreach (string oid in certificate.GetCriticalExtensionOids() ?? new HashSet<string>())
        {
            if (!Processed.Contains(oid))
            {
                throw Refuse(certificate, oid,
                    "a critical extension this end cannot process (RFC 5280 requires refusing it). Reissue the certificate without it, " +
                        "or mark it non-critical");
            }
        }
    }

    private static CertificateRefusedException Refuse(X509Certificate certificate, string oid, string what) =>
        new(CertificateRefusal.UnsupportedExtension, $"The certificate '{certificate.SubjectDN}' carries extension {oid}: {what}.");
}
