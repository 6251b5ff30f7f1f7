using System.Net;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;
using Org.BouncyCastle.X509.Extension;

namespace SecureMigration.Channel.Validation;

/// <summary>The names a certificate carries: subject alternative names and the subject's common name.</summary>
internal sealed record CertificateNames(IReadOnlyList<string> Dns, IReadOnlyList<string> Uris, IReadOnlyList<string> IpAddresses, string? CommonName)
{
    public bool HasSubjectAlternativeNames => Dns.Count + Uris.Count + IpAddresses.Count > 0;

    /// <summary>Every name, SANs first, for display and allow-list matching.</summary>
    public IEnumerable<string> All => Dns.Concat(Uris).Concat(IpAddresses).Concat(CommonName is null ? [] : [CommonName]);

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
