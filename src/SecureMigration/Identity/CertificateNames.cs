using System.Net;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;

namespace SecureMigration.Identity;

/// <summary>The names a certificate carries: subject alternative names and the subject's common name.</summary>
internal sealed record CertificateNames(IReadOnlyList<string> Dns, IReadOnlyList<string> Uris, IReadOnlyList<string> IpAddresses,
    string? CommonName)
{
    public bool HasSubjectAlternativeNames => Dns.Count + Uris.Count + IpAddresses.Count > 0;

    /// <summary>
    /// The names the certificate proves (RFC 6125 §6.4.4): its SANs when it has any, and then the CN does not count;
    /// otherwise the CN when the fallback is allowed. The allow-list, the expected name and a ticket's source and
    /// destination are all checked against these and no other names.
    /// </summary>
    public IReadOnlyList<string> Identities(bool allowCommonNameFallback) =>
        HasSubjectAlternativeNames ? [.. Dns, .. Uris, .. IpAddresses]
        : allowCommonNameFallback && CommonName is not null ? [CommonName]
        : [];

    /// <summary>For refusal messages: a note naming the CN when it exists but is not one of <see cref="Identities"/>.</summary>
    public string IgnoredCommonNameNote(bool allowCommonNameFallback) =>
        CommonName is not null && !Identities(allowCommonNameFallback).Contains(CommonName, StringComparer.OrdinalIgnoreCase)
            ? $" (its subject CN '{CommonName}' is not a name of the host: " +
                $"{(HasSubjectAlternativeNames ? "a certificate with SANs is matched by its SANs only" : "the CN fallback is off")})"
            : string.Empty;

    public static CertificateNames Read(X509Certificate certificate)
    {
        var dns = new List<string>();
        var uris = new List<string>();
        var ips = new List<string>();
        Asn1OctetString? san = certificate.GetExtensionValue(X509Extensions.SubjectAlternativeName);
        if (san is not null)
        {
            var names = GeneralNames.GetInstance(X509ExtensionUtilities.FromExtensionValue(san));
            foreach (GeneralName name in names.GetNames())
            {
                switch (name.TagNo)
                {
                    case GeneralName.DnsName:
                        dns.Add(DerIA5String.GetInstance(name.Name).GetString());
                        break;
                    case GeneralName.UniformResourceIdentifier:
                        uris.Add(DerIA5String.GetInstance(name.Name).GetString());
                        break;
                    case GeneralName.IPAddress:
                        byte[] address = Asn1OctetString.GetInstance(name.Name).GetOctets();
                        if (address.Length is 4 or 16)
                        {
                            ips.Add(new IPAddress(address).ToString());
                        }

                        break;
                }
            }
        }

        string? commonName = certificate.SubjectDN.GetValueList(X509Name.CN).LastOrDefault();
        return new CertificateNames(dns, uris, ips, commonName);
    }

    /// <summary>Whether <paramref name="expected"/> is one of the certificate's names (RFC 6125, no wildcards).</summary>
    public bool Matches(string expected, bool allowCommonNameFallback)
    {
        if (IPAddress.TryParse(expected, out IPAddress? expectedIp))
        {
            return IpAddresses.Any(ip => IPAddress.Parse(ip).Equals(expectedIp));
        }

        if (Dns.Any(d => string.Equals(d.TrimEnd('.'), expected.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)) ||
            Uris.Any(u => string.Equals(u, expected, StringComparison.Ordinal)))
        {
            return true;
        }

        // RFC 6125 §6.4.4: the CN is consulted only when the certificate has no SAN of a matching kind.
        return allowCommonNameFallback && !HasSubjectAlternativeNames &&
               string.Equals(CommonName, expected, StringComparison.OrdinalIgnoreCase);
    }
}
