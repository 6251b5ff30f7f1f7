using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.X509;

namespace SecureMigration.Identity;

/// <summary>
/// X.509 credentials: this end's certificate chain and private key, and the CA bundle it trusts for peers.
/// Keys may be ECDSA P-256/P-384/P-521, Ed25519 or RSA of at least 2048 bits, in PKCS#8 or the traditional
/// OpenSSL formats.
/// </summary>
public sealed class X509ChannelCredentials : ChannelCredentials
{
    private const int MinimumRsaBits = 2048;

    private X509ChannelCredentials(IReadOnlyList<X509Certificate> chain, AsymmetricKeyParameter privateKey,
        IReadOnlyList<X509Certificate> trustAnchors, IReadOnlyList<SignatureAndHashAlgorithm> signatureAlgorithms)
    {
        Chain = chain;
        PrivateKey = privateKey;
        TrustAnchors = trustAnchors;
        SignatureAlgorithms = signatureAlgorithms;
        Names = CertificateNames.Read(chain[0]);
        LocalIdentity = Names.Identities(allowCommonNameFallback: true).FirstOrDefault() ?? chain[0].SubjectDN.ToString();
    }

    /// <inheritdoc />
    public override string LocalIdentity { get; }

    /// <summary>Gets the SHA-256 hash of this end's SubjectPublicKeyInfo, base64, for peers that pin it.</summary>
    public string SpkiSha256 => SpkiPin.Compute(Chain[0]);

    internal IReadOnlyList<X509Certificate> Chain { get; }

    internal AsymmetricKeyParameter PrivateKey { get; }

    internal IReadOnlyList<X509Certificate> TrustAnchors { get; }

    /// <summary>The TLS 1.3 signature schemes this key can sign with, most preferred first.</summary>
    internal IReadOnlyList<SignatureAndHashAlgorithm> SignatureAlgorithms { get; }

    internal CertificateNames Names { get; }

    /// <summary>Loads credentials from PEM files as <c>openssl</c> or <c>secmig pki</c> writes them.</summary>
    /// <param name="certificatePath">This end's certificate, optionally followed by its intermediates.</param>
    /// <param name="privateKeyPath">This end's unencrypted private key.</param>
    /// <param name="caBundlePath">The CA certificates trusted to issue peer certificates.</param>
    /// <returns>The credentials.</returns>
    /// <exception cref="InvalidCredentialsException">A file is missing, unreadable, holds an unfit credential, or the key can be read by
    /// others.</exception>
    public static X509ChannelCredentials FromPemFiles(string certificatePath, string privateKeyPath, string caBundlePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(privateKeyPath);
        SecretFiles.EnsureOwnerOnly(privateKeyPath, "private key");
        return FromPem(ReadFile(certificatePath), ReadFile(privateKeyPath), ReadFile(caBundlePath), certificatePath, privateKeyPath,
            caBundlePath);
    }

    /// <summary>Loads credentials from PEM text.</summary>
    /// <param name="certificatePem">This end's certificate, optionally followed by its intermediates.</param>
    /// <param name="privateKeyPem">This end's unencrypted private key.</param>
    /// <param name="caBundlePem">The CA certificates trusted to issue peer certificates.</param>
    /// <returns>The credentials.</returns>
    /// <exception cref="InvalidCredentialsException">The text holds no usable credential.</exception>
    public static X509ChannelCredentials FromPem(string certificatePem, string privateKeyPem, string caBundlePem)
    {
        return FromPem(certificatePem, privateKeyPem, caBundlePem, "the certificate PEM", "the private key PEM", "the CA bundle PEM");
    }

    private static X509ChannelCredentials FromPem(string certificatePem, string privateKeyPem, string caBundlePem,
        string certificateSource, string keySource, string caSource)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        ArgumentNullException.ThrowIfNull(privateKeyPem);
        ArgumentNullException.ThrowIfNull(caBundlePem);

        List<X509Certificate> chain = PemObjects.ReadCertificates(certificatePem, certificateSource);
        AsymmetricKeyParameter key = PemObjects.ReadPrivateKey(privateKeyPem, keySource);
        List<X509Certificate> anchors = PemObjects.ReadCertificates(caBundlePem, caSource);
        IReadOnlyList<SignatureAndHashAlgorithm> schemes = SignatureSchemesFor(key, keySource);
        EnsureKeyMatchesCertificate(key, chain[0], certificateSource, keySource);
        return new X509ChannelCredentials(chain, key, anchors, schemes);
    }

    private static string ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidCredentialsException(path, $"Cannot read '{path}': {e.Message} Check the path and the file's permissions.", e);
        }
    }

    private static IReadOnlyList<SignatureAndHashAlgorithm> SignatureSchemesFor(AsymmetricKeyParameter key, string source)
    {
        switch (key)
        {
            case ECPrivateKeyParameters ec:
                int bits = ec.Parameters.Curve.FieldSize;
                short hash = bits switch
                {
                    256 => HashAlgorithm.sha256,
                    384 => HashAlgorithm.sha384,
                    521 => HashAlgorithm.sha512,
                    _ => throw new InvalidCredentialsException(source,
                        $"{source} holds an EC key on a {bits}-bit curve; TLS 1.3 signs only with P-256, P-384 or P-521. Issue a P-256 " +
                            $"key."),
                };
                return [SignatureAndHashAlgorithm.GetInstance(hash, SignatureAlgorithm.ecdsa)];
            case Ed25519PrivateKeyParameters:
                return [SignatureAndHashAlgorithm.ed25519];
            case RsaKeyParameters rsa:
                if (rsa.Modulus.BitLength < MinimumRsaBits)
                {
                    throw new InvalidCredentialsException(source,
                        $"{source} holds a {rsa.Modulus.BitLength}-bit RSA key; at least {MinimumRsaBits} bits are required. Issue a " +
                            $"larger key or an ECDSA P-256 key.");
                }

                return [SignatureAndHashAlgorithm.rsa_pss_rsae_sha256, SignatureAndHashAlgorithm.rsa_pss_rsae_sha384,
                    SignatureAndHashAlgorithm.rsa_pss_rsae_sha512];
            default:
                throw new InvalidCredentialsException(source,
                    $"{source} holds a {key.GetType().Name} key, which is not supported. Use ECDSA P-256/P-384, Ed25519 or RSA ≥ " +
                        $"{MinimumRsaBits} bits.");
        }
    }

    private static void EnsureKeyMatchesCertificate(AsymmetricKeyParameter key, X509Certificate certificate, string certificateSource,
        string keySource)
    {
        string algorithm = key switch
        {
            ECPrivateKeyParameters => "SHA256withECDSA",
            Ed25519PrivateKeyParameters => "Ed25519",
            _ => "SHA256withRSA",
        };
        byte[] probe = new byte[32];
        new SecureRandom().NextBytes(probe);
        try
        {
            ISigner signer = SignerUtilities.GetSigner(algorithm);
            signer.Init(true, key);
            signer.BlockUpdate(probe, 0, probe.Length);
            byte[] signature = signer.GenerateSignature();

            ISigner verifier = SignerUtilities.GetSigner(algorithm);
            verifier.Init(false, certificate.GetPublicKey());
            verifier.BlockUpdate(probe, 0, probe.Length);
            if (verifier.VerifySignature(signature))
            {
                return;
            }
        }
        catch (Exception e) when (e is InvalidKeyException or ArgumentException or InvalidCastException or CryptoException)
        {
            throw new InvalidCredentialsException(keySource,
                $"The private key in {keySource} does not belong to the certificate in {certificateSource} ({e.Message}). Pass the key " +
                    $"that was issued with this certificate.", e);
        }

        throw new InvalidCredentialsException(keySource,
            $"The private key in {keySource} does not belong to the certificate in {certificateSource}. Pass the key that was issued " +
                $"with this certificate.");
    }
}
