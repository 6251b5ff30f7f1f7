using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>Reads certificates and private keys from PEM text as <c>openssl</c> writes it.</summary>
internal static class PemObjects
{
    private const int MaxPemChars = 1024 * 1024;

    public static List<X509Certificate> ReadCertificates(string pem, string source)
    {
        var certificates = new List<X509Certificate>();
        foreach (object item in ReadAll(pem, source))
        {
            if (item is X509Certificate certificate)
            {
                EnsureReadable(certificate, source);
                certificates.Add(certificate);
            }
        }

        if (certificates.Count == 0)
        {
            throw new InvalidCredentialsException(source,
                $"{source} contains no PEM certificate (-----BEGIN CERTIFICATE-----). Pass the certificate file that openssl or 'secmig " +
                    $"pki' wrote.");
        }

        return certificates;
    }

    /// <summary>
    /// BouncyCastle parses a certificate's key and extensions only when asked: read the ones this library uses now, so a
    /// malformed one is refused here, typed, and not wherever it is first used.
    /// </summary>
    private static void EnsureReadable(X509Certificate certificate, string source)
    {
        try
        {
            _ = certificate.GetPublicKey();
            _ = CertificateNames.Read(certificate);
        }
        catch (Exception e) when (MalformedCertificate.IsCause(e))
        {
            throw new InvalidCredentialsException(source,
                $"{source} holds a certificate whose key or names cannot be read ({e.Message}). " +
                "Pass the certificate that openssl or 'secmig pki' wrote.", e);
        }
    }

    public static string ToPem(X509Certificate certificate)
    {
        using var text = new StringWriter();
        var writer = new PemWriter(text);
        writer.WriteObject(certificate);
        writer.Writer.Flush();
        return text.ToString();
    }

    public static AsymmetricKeyParameter ReadPrivateKey(string pem, string source)
    {
        foreach (object item in ReadAll(pem, source))
        {
            switch (item)
            {
                case AsymmetricCipherKeyPair pair:
                    return pair.Private;
                case AsymmetricKeyParameter { IsPrivate: true } key:
                    return key;
            }
        }

        throw new InvalidCredentialsException(source,
            $"{source} contains no unencrypted private key (PKCS#8 'PRIVATE KEY', 'EC PRIVATE KEY' or 'RSA PRIVATE KEY'). " +
            "Encrypted keys are not supported: decrypt it with 'openssl pkey -in KEY -out PLAIN' and protect the file with permissions.");
    }

    private static List<object> ReadAll(string pem, string source)
    {
        if (pem.Length > MaxPemChars)
        {
            throw new InvalidCredentialsException(source, $"{source} is larger than {MaxPemChars} characters; it is not a PEM credential.");
        }

        var items = new List<object>();
        try
        {
            using var reader = new PemReader(new StringReader(pem));
            while (reader.ReadObject() is { } item)
            {
                items.Add(item);
            }
        }
        catch (Exception e) when (e is IOException or PemException or ArgumentException or InvalidCastException)
        {
            throw new InvalidCredentialsException(source,
                $"{source} is not valid PEM ({e.Message}). Check that the file is a PEM certificate or key and not truncated; encrypted " +
                    $"keys are not supported.", e);
        }

        return items;
    }
}
