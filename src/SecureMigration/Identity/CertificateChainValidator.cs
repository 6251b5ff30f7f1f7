using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Security.Certificates;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// RFC 5280 path validation for a peer's chain against a CA bundle, then the peer policy (name,
/// allow-list, pins). BouncyCastle's TLS layer validates nothing of this itself.
/// </summary>
internal static class CertificateChainValidator
{
    private const int DigitalSignatureBit = 0;
    private const int KeyCertSignBit = 5;

    /// <summary>Validates and returns the peer's identity, or throws <see cref="CertificateRefusedException"/>.</summary>
    public static PeerIdentity Validate(IReadOnlyList<X509Certificate> presented, IReadOnlyList<X509Certificate> anchors,
        PeerPolicy policy, bool peerIsServer, DateTimeOffset now)
    {
        if (presented.Count == 0)
        {
            throw Fail(CertificateRefusal.UntrustedChain, "The peer presented no certificate. Configure the peer with a certificate " +
                "issued by a CA in this end's bundle.");
        }

        if (presented.Count > policy.MaxChainLength)
        {
            throw Fail(CertificateRefusal.UntrustedChain,
                $"The peer presented a chain of {presented.Count} certificates; at most {policy.MaxChainLength} are accepted.");
        }

        X509Certificate leaf = presented[0];
        List<X509Certificate> path = BuildPath(leaf, presented, anchors);
        CheckValidity(path, now);
        CheckAlgorithmsAndExtensions(path);
        CheckConstraints(path);
        CheckLeafUsage(leaf, peerIsServer);
        RevocationChecker.Check(path, policy.RevocationLists, now);
        return CheckPolicy(leaf, policy);
    }

    private static List<X509Certificate> BuildPath(X509Certificate leaf, IReadOnlyList<X509Certificate> presented,
        IReadOnlyList<X509Certificate> anchors)
    {
        var path = new List<X509Certificate> { leaf };
        X509Certificate current = leaf;
        for (int depth = 0; depth <= presented.Count; depth++)
        {
            X509Certificate? anchor = anchors.FirstOrDefault(a => a.SubjectDN.Equivalent(current.IssuerDN) && IsSignedBy(current, a));
            if (anchor is not null)
            {
                if (!anchor.Equals(current))
                {
                    path.Add(anchor);
                }

                return path;
            }

            X509Certificate? issuer = presented.Skip(1).FirstOrDefault(c => !path.Contains(c) && c.SubjectDN.Equivalent(current.IssuerDN) &&
                IsSignedBy(current, c));
            if (issuer is null)
            {
                break;
            }

            path.Add(issuer);
            current = issuer;
        }

        throw Fail(CertificateRefusal.UntrustedChain,
            $"The peer's certificate '{leaf.SubjectDN}' (issuer '{current.IssuerDN}') does not chain to a CA in this end's bundle. " +
            "Issue the peer's certificate from a trusted CA, or add its CA to the bundle if you trust it.");
    }

    private static bool IsSignedBy(X509Certificate certificate, X509Certificate issuer)
    {
        try
        {
            certificate.Verify(issuer.GetPublicKey());
            return true;
        }
        catch (Exception e) when (e is InvalidKeyException or SignatureException or CertificateException or ArgumentException or
            InvalidOperationException)
        {
            return false;
        }
    }

    private static void CheckValidity(List<X509Certificate> path, DateTimeOffset now)
    {
        DateTime instant = now.UtcDateTime;
        foreach (X509Certificate certificate in path)
        {
            if (instant < certificate.NotBefore.ToUniversalTime())
            {
                throw Fail(CertificateRefusal.NotYetValid,
                    $"The certificate '{certificate.SubjectDN}' is not valid until {certificate.NotBefore.ToUniversalTime():u}; it is " +
                        $"now {instant:u}. Check both hosts' clocks.");
            }

            if (instant > certificate.NotAfter.ToUniversalTime())
            {
                throw Fail(CertificateRefusal.Expired,
                    $"The certificate '{certificate.SubjectDN}' expired at {certificate.NotAfter.ToUniversalTime():u}; it is now " +
                        $"{instant:u}. Renew it.");
            }
        }
    }

    private static void CheckAlgorithmsAndExtensions(List<X509Certificate> path)
    {
        // The last certificate of the path is the trust anchor: configured, not presented, so its own
        // signature does not matter. Every other signature and every key a peer relies on does.
        for (int i = 0; i < path.Count; i++)
        {
            CertificateExtensions.Check(path[i]);
            bool isAnchor = i == path.Count - 1;
            if (!isAnchor)
            {
                CertificateAlgorithms.CheckSignature(path[i]);
            }

            if (!isAnchor || i == 0)
            {
                CertificateAlgorithms.CheckKey(path[i]);
            }
        }
    }

    private static void CheckConstraints(List<X509Certificate> path)
    {
        // Every certificate above the leaf issues the one below it: it must be a CA allowed to sign
        // certificates, and its path length constraint must cover the intermediates below it.
        for (int i = 1; i < path.Count; i++)
        {
            X509Certificate issuer = path[i];
            int pathLength = issuer.GetBasicConstraints();
            if (pathLength < 0)
            {
                throw Fail(CertificateRefusal.KeyUsage, $"The certificate '{issuer.SubjectDN}' issued a certificate in the peer's chain " +
                    $"but is not a CA (basic constraints). The chain is refused.");
            }

            int intermediatesBelow = i - 1;
            if (intermediatesBelow > pathLength)
            {
                throw Fail(CertificateRefusal.KeyUsage, $"The CA '{issuer.SubjectDN}' allows a path length of {pathLength} but has " +
                    $"{intermediatesBelow} intermediate CAs below it.");
            }

            bool[]? usage = issuer.GetKeyUsage();
            if (usage is not null && (usage.Length <= KeyCertSignBit || !usage[KeyCertSignBit]))
            {
                throw Fail(CertificateRefusal.KeyUsage, $"The CA '{issuer.SubjectDN}' lacks the keyCertSign key usage, so it may not " +
                    $"issue certificates.");
            }
        }
    }

    private static void CheckLeafUsage(X509Certificate leaf, bool peerIsServer)
    {
        if (leaf.GetBasicConstraints() >= 0)
        {
            throw Fail(CertificateRefusal.KeyUsage,
                $"The peer presented the CA certificate '{leaf.SubjectDN}' as its own (basic constraints CA:TRUE); a host must use a " +
                    $"certificate " +
                "issued to it with CA:FALSE. Issue one with 'secmig pki issue' and keep the CA's key off the hosts.");
        }

        bool[]? usage = leaf.GetKeyUsage();
        if (usage is not null && (usage.Length <= DigitalSignatureBit || !usage[DigitalSignatureBit]))
        {
            throw Fail(CertificateRefusal.KeyUsage, $"The peer's certificate '{leaf.SubjectDN}' lacks the digitalSignature key usage " +
                $"that TLS 1.3 needs. Reissue it.");
        }

        IList<DerObjectIdentifier>? ekus = leaf.GetExtendedKeyUsage();
        if (ekus is null)
        {
            return;
        }

        string required = peerIsServer ? KeyPurposeID.id_kp_serverAuth.Id : KeyPurposeID.id_kp_clientAuth.Id;
        if (!ekus.Any(e => e.Id == required || e.Id == KeyPurposeID.AnyExtendedKeyUsage.Id))
        {
            string role = peerIsServer ? "serverAuth" : "clientAuth";
            throw Fail(CertificateRefusal.KeyUsage,
                $"The peer's certificate '{leaf.SubjectDN}' has an extended key usage without {role}. Reissue it with serverAuth and " +
                    $"clientAuth (secmig pki issue does).");
        }
    }

    private static PeerIdentity CheckPolicy(X509Certificate leaf, PeerPolicy policy)
    {
        CertificateNames names = CertificateNames.Read(leaf);
        IReadOnlyList<string> identities = names.Identities(policy.AllowCommonNameFallback);
        string pin = SpkiPin.Compute(leaf);
        string? matchedName = null;
        if (policy.ExpectedName is { Length: > 0 } expected)
        {
            if (!names.Matches(expected, policy.AllowCommonNameFallback))
            {
                throw Fail(CertificateRefusal.NameMismatch,
                    $"The peer's certificate is for " +
                        $"[{string.Join(", ", identities)}]{names.IgnoredCommonNameNote(policy.AllowCommonNameFallback)}, not the " +
                            $"expected '{expected}'. " +
                    "Connect to the right host or fix the expected peer name.");
            }

            matchedName = expected;
        }

        if (policy.AllowedPeers.Count > 0)
        {
            string? allowed = policy.AllowedPeers.FirstOrDefault(p => names.Matches(p, policy.AllowCommonNameFallback));
            if (allowed is null)
            {
                throw Fail(CertificateRefusal.NotAllowed,
                    $"The peer [{string.Join(", ", identities)}]{names.IgnoredCommonNameNote(policy.AllowCommonNameFallback)} " +
                        $"authenticated but is not on the allow-list. " +
                    "Add it with --allow-peer if it should migrate here.");
            }

            matchedName ??= allowed;
        }

        if (policy.SpkiPins.Count > 0 && !SpkiPin.MatchesAny(pin, policy.SpkiPins))
        {
            throw Fail(CertificateRefusal.PinMismatch, $"The peer's public key (SPKI SHA-256 {pin}) matches none of the pinned keys. " +
                $"Update the pins if the key was rotated.");
        }

        string name = matchedName ?? identities.FirstOrDefault() ?? leaf.SubjectDN.ToString();
        return new PeerIdentity(name, identities, pin);
    }

    private static CertificateRefusedException Fail(CertificateRefusal reason, string message) => new(reason, message);
}
