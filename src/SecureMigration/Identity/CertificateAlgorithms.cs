using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.EdEC;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// The algorithm floor of a peer's chain: signatures made with SHA-256 or stronger (no MD5, no SHA-1) and keys of
/// at least 2048-bit RSA or a 256-bit curve.
/// </summary>
internal static class CertificateAlgorithms
{
    public const int MinimumRsaBits = 2048;
    public const int MinimumEcBits = 256;

    private static readonly HashSet<string> AcceptedSignatures =
    [
        PkcsObjectIdentifiers.Sha256WithRsaEncryption.Id,
        PkcsObjectIdentifiers.Sha384WithRsaEncryption.Id,
        PkcsObjectIdentifiers.Sha512WithRsaEncryption.Id,
        X9ObjectIdentifiers.ECDsaWithSha256.Id,
        X9ObjectIdentifiers.ECDsaWithSha384.Id,
        X9ObjectIdentifiers.ECDsaWithSha512.Id,
        EdECObjectIdentifiers.id_Ed25519.Id,
        EdECObjectIdentifiers.id_Ed448.Id,
    ];

    private static readonly HashSet<string> AcceptedPssHashes =
    [
        NistObjectIdentifiers.IdSha256.Id,
        NistObjectIdentifiers.IdSha384.Id,
        NistObjectIdentifiers.IdSha512.Id,
    ];

    /// <summary>Refuses a certificate signed with a weak or unknown algorithm (checked for every certificate its issuer signed).</summary>
    public static void CheckSignature(X509Certificate certificate)
    {
        string oid = certificate.SigAlgOid;
        if (AcceptedSignatures.Contains(oid) || (oid == PkcsObjectIdentifiers.IdRsassaPss.Id &&
            PssHashIsAccepted(certificate.GetSigAlgParams())))
        {
            return;
        }

        throw new CertificateRefusedException(CertificateRefusal.WeakAlgorithm,
            $"The certificate '{certificate.SubjectDN}' is signed with {certificate.SigAlgName} ({oid}); only SHA-256 or stronger " +
                $"RSA/ECDSA signatures " +
            "and Ed25519/Ed448 are accepted (MD5 and SHA-1 signatures can be forged). Reissue it with SHA-256 (secmig pki issue does).");
    }

    /// <summary>Refuses a certificate whose public key is too small or of an unsupported kind.</summary>
    public static void CheckKey(X509Certificate certificate)
    {
        AsymmetricKeyParameter key = certificate.GetPublicKey();
        (string kind, int bits, int minimum) = key switch
        {
            RsaKeyParameters rsa => ("RSA", rsa.Modulus.BitLength, MinimumRsaBits),
            ECPublicKeyParameters ec => ("EC", ec.Parameters.Curve.FieldSize, MinimumEcBits),
            Ed25519PublicKeyParameters or Ed448PublicKeyParameters => ("EdDSA", 0, 0),
            _ => (key.GetType().Name, 0, int.MaxValue),
        };
        if (minimum == int.MaxValue)
        {
            throw new CertificateRefusedException(CertificateRefusal.WeakAlgorithm,
                $"The certificate '{certificate.SubjectDN}' holds a {kind} key, which is not accepted. Reissue it with an ECDSA P-256, " +
                    $"Ed25519 or RSA ≥ {MinimumRsaBits}-bit key.");
        }

        if (bits < minimum)
        {
            throw new CertificateRefusedException(CertificateRefusal.WeakAlgorithm,
                $"The certificate '{certificate.SubjectDN}' holds a {bits}-bit {kind} key; at least {minimum} bits are required. " +
                $"Reissue it with an ECDSA P-256 or RSA ≥ {MinimumRsaBits}-bit key.");
        }
    }

    private static bool PssHashIsAccepted(byte[]? parameters)
    {
        if (parameters is null)
        {
            return false; // Absent parameters mean the SHA-1 default.
        }

        var pss = RsassaPssParameters.GetInstance(Asn1Object.FromByteArray(parameters));
        return AcceptedPssHashes.Contains(pss.HashAlgorithm.Algorithm.Id);
    }
}
