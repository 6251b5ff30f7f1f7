using System.Security.Cryptography;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>SHA-256 pins of a certificate's SubjectPublicKeyInfo (as in HPKP and <c>openssl pkey -pubout | sha256</c>).</summary>
internal static class SpkiPin
{
    public static string Compute(X509Certificate certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.CertificateStructure.SubjectPublicKeyInfo.GetEncoded()));

    public static bool MatchesAny(string pin, IEnumerable<string> pins)
    {
        byte[] actual = Convert.FromBase64String(pin);
        bool matched = false;
        foreach (string candidate in pins)
        {
            byte[] expected;
            try
            {
                expected = Convert.FromBase64String(candidate);
            }
            catch (FormatException)
            {
                continue;
            }

            matched |= expected.Length == actual.Length && CryptographicOperations.FixedTimeEquals(expected, actual);
        }

        return matched;
    }
}
