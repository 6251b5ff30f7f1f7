using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// Checks every certificate of a validated path below its trust anchor against the CRLs of its issuer. When CRLs are
/// configured the check fails closed: a certificate whose issuer has no current CRL, correctly signed, is refused.
/// </summary>
internal static class RevocationChecker
{
    private const int CrlSignBit = 6;

    public static void Check(List<X509Certificate> path, ICollection<CertificateRevocationList> lists, DateTimeOffset now)
    {
        if (lists.Count == 0)
        {
            return;
        }

        for (int i = 0; i < path.Count - 1; i++)
        {
            CheckOne(path[i], path[i + 1], lists, now.UtcDateTime);
        }
    }

    private static void CheckOne(X509Certificate certificate, X509Certificate issuer, ICollection<CertificateRevocationList> lists,
        DateTime now)
    {
        List<CertificateRevocationList> fromIssuer = lists.Where(l => l.Crl.IssuerDN.Equivalent(issuer.SubjectDN)).ToList();
        if (fromIssuer.Count == 0)
        {
            throw Unknown($"No CRL from the CA '{issuer.SubjectDN}' was given, so the revocation of '{certificate.SubjectDN}' cannot be " +
                $"checked. " +
                "Add that CA's CRL (--crl), or give no CRL at all to turn revocation checking off.");
        }

        bool[]? usage = issuer.GetKeyUsage();
        if (usage is not null && (usage.Length <= CrlSignBit || !usage[CrlSignBit]))
        {
            throw Unknown($"The CA '{issuer.SubjectDN}' lacks the cRLSign key usage, so its CRLs cannot be trusted. Reissue the CA with " +
                $"cRLSign.");
        }

        CertificateRevocationList? current = null;
        foreach (CertificateRevocationList list in fromIssuer)
        {
            // Nothing in a list is believed before its signature is.
            if (!IsSignedBy(list.Crl, issuer))
            {
                throw Unknown($"The CRL in {list.Source} names the issuer '{list.Crl.IssuerDN}' but is not signed by that CA's key. " +
                    "Replace it with the CRL that CA published.");
            }

            if (list.Crl.GetCriticalExtensionOids() is { Count: > 0 } critical)
            {
                throw Unknown($"The CRL in {list.Source} from '{list.Crl.IssuerDN}' carries critical extensions " +
                    $"({string.Join(", ", critical)}) this end does not process " +
                    "(delta or partitioned CRLs). Give the CA's complete CRL.");
            }

            if (list.Crl.GetRevokedCertificate(certificate.SerialNumber) is { } entry)
            {
                throw new CertificateRefusedException(CertificateRefusal.Revoked,
                    $"The certificate '{certificate.SubjectDN}' (serial {certificate.SerialNumber.ToString(16)}) was revoked by " +
                        $"'{issuer.SubjectDN}' " +
                    $"on {entry.RevocationDate.ToUniversalTime():u} (CRL {list.Source}). The peer must get a new certificate.");
            }

            if (IsCurrent(list.Crl, now))
            {
                current = list;
            }
        }

        if (current is null)
        {
            X509Crl newest = fromIssuer.Select(l => l.Crl).MaxBy(c => c.ThisUpdate)!;
            throw Unknown(newest.NextUpdate?.ToUniversalTime() switch
            {
                _ when now < newest.ThisUpdate.ToUniversalTime() =>
                    $"The CRL of '{issuer.SubjectDN}' is not valid until {newest.ThisUpdate.ToUniversalTime():u}; it is now {now:u}. " +
                        $"Check this host's clock.",
                { } next => $"The CRL of '{issuer.SubjectDN}' expired at {next:u} (its next update); it is now {now:u}. " +
                    "Fetch the CA's current CRL; until then no peer it issued is accepted.",
                null => $"The CRL of '{issuer.SubjectDN}' has no next update date, so whether it is current cannot be told (RFC 5280 " +
                    $"requires one). " +
                    "Regenerate it with 'openssl ca -gencrl'.",
            });
        }
    }

    private static bool IsCurrent(X509Crl crl, DateTime now) =>
        crl.ThisUpdate.ToUniversalTime() <= now && crl.NextUpdate is { } next && now <= next.ToUniversalTime();

    private static bool IsSignedBy(X509Crl crl, X509Certificate issuer)
    {
        try
        {
            crl.Verify(issuer.GetPublicKey());
            return true;
        }
        catch (Exception e) when (e is Org.BouncyCastle.Security.InvalidKeyException or Org.BouncyCastle.Security.SignatureException
            or Org.BouncyCastle.Security.Certificates.CrlException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static CertificateRefusedException Unknown(string message) => new(CertificateRefusal.RevocationUnknown, message);
}
