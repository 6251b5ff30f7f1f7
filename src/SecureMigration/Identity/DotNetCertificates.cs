using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Pkcs;

namespace SecureMigration.Identity;

/// <summary>This host's certificate as .NET's own TLS (SslStream: etcd's client, the agent's control API) presents it.</summary>
internal static class DotNetCertificates
{
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string RsaPublicKey = "1.2.840.113549.1.1.1";

    /// <summary>The leaf certificate with its private key; the caller disposes it.</summary>
    /// <param name="credentials">This host's credentials.</param>
    /// <param name="user">What presents it, for the message when it cannot: "etcd's TLS".</param>
    /// <exception cref="InvalidCredentialsException">The key is neither ECDSA nor RSA.</exception>
    public static X509Certificate2 ToDotNetCertificate(this X509ChannelCredentials credentials, string user)
    {
        byte[] pkcs8 = PrivateKeyInfoFactory.CreatePrivateKeyInfo(credentials.PrivateKey).GetEncoded();
        try
        {
            using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(credentials.Chain[0].GetEncoded());
            if (certificate.GetKeyAlgorithm() is not (EcPublicKey or RsaPublicKey))
            {
                throw new InvalidCredentialsException("the host key", $"The host's key ({certificate.GetKeyAlgorithm()}) is neither " +
                    $"ECDSA nor RSA; {user} takes only those. Issue the host an ECDSA P-256 or RSA certificate.");
            }

            using AsymmetricAlgorithm key = certificate.GetKeyAlgorithm() == EcPublicKey ? ECDsa.Create() : RSA.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return key switch
            {
                ECDsa ecdsa => certificate.CopyWithPrivateKey(ecdsa),
                _ => certificate.CopyWithPrivateKey((RSA)key),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }
}
