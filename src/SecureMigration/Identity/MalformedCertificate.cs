using Org.BouncyCastle.Security;
using Org.BouncyCastle.Security.Certificates;

namespace SecureMigration.Identity;

/// <summary>
/// The exceptions BouncyCastle throws when a certificate's bytes parse as ASN.1 but its key or extensions do not
/// (an unknown algorithm, a truncated name, an EC point that is not on its encoding's form). It parses those parts
/// only when asked, so every place that reads a certificate someone else wrote catches exactly these and refuses it typed.
/// </summary>
internal static class MalformedCertificate
{
    public static bool IsCause(Exception e) =>
        e is IOException or ArgumentException or InvalidCastException or InvalidOperationException or FormatException
            or SecurityUtilityException or CertificateException;
}
