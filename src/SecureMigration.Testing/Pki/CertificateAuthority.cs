using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SecureMigration.Testing.Pki;

/// <summary>
/// A small certificate authority for migration hosts: it issues host certificates usable as TLS client and
/// server, with DNS and IP subject alternative names. Output is PEM that <c>openssl verify</c> accepts.
/// For production, issue host certificates from your own PKI; this serves tests, demos and small clusters.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly AsymmetricAlgorithm _key;

    private CertificateAuthority(X509Certificate2 certificate, AsymmetricAlgorithm key)
    {
        _certificate = certificate;
        _key = key;
    }

    /// <summary>Gets the CA certificate in PEM (the trust bundle to give every host).</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>Creates a new self-signed CA with an ECDSA P-256 key.</summary>
    /// <param name="name">The CA's common name.</param>
    /// <param name="notBefore">The start of validity.</param>
    /// <param name="notAfter">The end of validity.</param>
    /// <returns>The CA.</returns>
    public static CertificateAuthority Create(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        X509Certificate2 certificate = request.CreateSelfSigned(notBefore, notAfter);
        return new CertificateAuthority(certificate, key);
    }

    /// <summary>Creates a CA valid from an hour ago for ten years.</summary>
    /// <param name="name">The CA's common name.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/> for the system clock.</param>
    /// <returns>The CA.</returns>
    public static CertificateAuthority Create(string name, TimeProvider? timeProvider = null)
    {
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        return Create(name, now.AddHours(-1), now.AddYears(10));
    }

    /// <summary>Loads a CA from its PEM certificate and PEM private key (as written by <see cref="Export"/>).</summary>
    /// <param name="certificatePem">The CA certificate.</param>
    /// <param name="privateKeyPem">The CA's ECDSA private key.</param>
    /// <returns>The CA.</returns>
    public static CertificateAuthority Load(string certificatePem, string privateKeyPem)
    {
        var certificate = X509Certificate2.CreateFromPem(certificatePem);
        var key = ECDsa.Create();
        key.ImportFromPem(privateKeyPem);
        return new CertificateAuthority(certificate, key);
    }

    /// <summary>Gets the CA's certificate and key in PEM.</summary>
    /// <returns>The CA credential.</returns>
    public IssuedCredential Export() => new(CertificatePem, _key.ExportPkcs8PrivateKeyPem());

    /// <summary>Issues a host certificate, valid from an hour ago for one year.</summary>
    /// <param name="hostName">The DNS name (SAN and CN).</param>
    /// <param name="ipAddresses">IP address SANs.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/>.</param>
    /// <param name="algorithm">The key type.</param>
    /// <returns>The host credential.</returns>
    public IssuedCredential IssueHost(string hostName, IEnumerable<IPAddress>? ipAddresses = null, TimeProvider? timeProvider = null,
        KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256)
    {
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        return IssueHost(hostName, now.AddHours(-1), now.AddYears(1), ipAddresses, algorithm);
    }

    /// <summary>Issues a host certificate with an explicit validity period.</summary>
    /// <param name="hostName">The DNS name (SAN and CN).</param>
    /// <param name="notBefore">The start of validity.</param>
    /// <param name="notAfter">The end of validity.</param>
    /// <param name="ipAddresses">IP address SANs.</param>
    /// <param name="algorithm">The key type.</param>
    /// <param name="extendedKeyUsages">The EKU OIDs, or <see langword="null"/> for serverAuth and clientAuth.</param>
    /// <returns>The host credential.</returns>
    public IssuedCredential IssueHost(string hostName, DateTimeOffset notBefore, DateTimeOffset notAfter,
        IEnumerable<IPAddress>? ipAddresses = null,
        KeyAlgorithm algorithm = KeyAlgorithm.EcdsaP256, IEnumerable<string>? extendedKeyUsages = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        if (notAfter <= notBefore)
        {
            throw new ArgumentException($"The validity period is empty: notBefore {notBefore:u} is not before notAfter {notAfter:u}.",
                nameof(notAfter));
        }

        // Never past the CA's own validity: a chain validator would refuse the result.
        if (notAfter > _certificate.NotAfter)
        {
            notAfter = _certificate.NotAfter;
        }

        using AsymmetricAlgorithm key = algorithm switch
        {
            KeyAlgorithm.EcdsaP384 => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            KeyAlgorithm.Rsa2048 => RSA.Create(2048),
            _ => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        };
        var subject = new X500DistinguishedName($"CN={Escape(hostName)}");
        CertificateRequest request = key is RSA rsa
            ? new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(hostName);
        foreach (IPAddress ip in ipAddresses ?? [])
        {
            san.AddIpAddress(ip);
        }

        var ekus = new OidCollection();
        foreach (string oid in extendedKeyUsages ?? ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"])
        {
            ekus.Add(new Oid(oid));
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ekus, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_certificate, true, false));

        byte[] serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        X509SignatureGenerator generator = _key switch
        {
            ECDsa ecdsa => X509SignatureGenerator.CreateForECDsa(ecdsa),
            RSA caRsa => X509SignatureGenerator.CreateForRSA(caRsa, RSASignaturePadding.Pkcs1),
            _ => throw new InvalidOperationException("The CA key type is not supported."),
        };
        using X509Certificate2 issued = request.Create(_certificate.SubjectName, generator, notBefore, notAfter, serial);
        return new IssuedCredential(issued.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>Disposes the CA's key.</summary>
    public void Dispose()
    {
        _key.Dispose();
        _certificate.Dispose();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,",
        StringComparison.Ordinal)
        .Replace("=", "\\=", StringComparison.Ordinal).Replace("+", "\\+", StringComparison.Ordinal);
}
