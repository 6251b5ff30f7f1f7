using CsCheck;
using SecureMigration.Channel;
using SecureMigration.Channel.Tls;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Channel;

public sealed class CredentialParsingTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public void FromPem_AnyText_FailsOnlyWithInvalidCredentials()
    {
        Gen.String.Sample(text =>
        {
            Assert.Throws<InvalidCredentialsException>(() => X509ChannelCredentials.FromPem(text, pki.Source.PrivateKeyPem,
                pki.Ca.CertificatePem));
        }, iter: 300);
    }

    [Fact]
    public void FromPem_RandomBodiesInsidePemArmour_FailOnlyWithInvalidCredentials()
    {
        Gen.Select(Gen.Byte.Array[0, 3000], Gen.Int[0, 2]).Sample((body, kind) =>
        {
            string label = new[] { "CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY" }[kind];
            string pem = $"-----BEGIN {label}-----\n{Convert.ToBase64String(body, Base64FormattingOptions.InsertLineBreaks)}\n-----END " +
                $"{label}-----\n";
            Assert.Throws<InvalidCredentialsException>(() => kind == 0
                ? X509ChannelCredentials.FromPem(pem, pki.Source.PrivateKeyPem, pki.Ca.CertificatePem)
                : X509ChannelCredentials.FromPem(pki.Source.CertificatePem, pem, pki.Ca.CertificatePem));
        }, iter: 300);
    }

    /// <summary>Fuzzing (docs/fuzzing.md, finding 1): a certificate whose key names an unknown algorithm is refused typed.</summary>
    [Fact]
    public void FromPem_CertificateWithUnknownKeyAlgorithm_IsRefusedAsInvalidCredentials()
    {
        // id-ecPublicKey (1.2.840.10045.2.1) becomes 1.2.840.10045.2.4, which nothing implements.
        string altered = Altered(pki.Source.CertificatePem, [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01], at: 6);

        Assert.Throws<InvalidCredentialsException>(() =>
            X509ChannelCredentials.FromPem(altered, pki.Source.PrivateKeyPem, pki.Ca.CertificatePem));
    }

    /// <summary>Fuzzing (docs/fuzzing.md, finding 2): a certificate whose alternative names are cut short is refused typed.</summary>
    [Fact]
    public void FromPem_CertificateWithTruncatedAlternativeNames_IsRefusedAsInvalidCredentials()
    {
        // The SAN extension (2.5.29.17) wraps a SEQUENCE of names: it claims one byte more than the extension holds.
        string altered = Altered(pki.Source.CertificatePem, [0x55, 0x1D, 0x11, 0x04], at: 6);

        Assert.Throws<InvalidCredentialsException>(() =>
            X509ChannelCredentials.FromPem(altered, pki.Source.PrivateKeyPem, pki.Ca.CertificatePem));
    }

    /// <summary>
    /// Fuzzing (docs/fuzzing.md, finding 5): a certificate whose EC point does not start with a point encoding
    /// (0x04 became 0x05) is refused typed; BouncyCastle throws <see cref="FormatException"/> for it.
    /// </summary>
    [Fact]
    public void FromPem_CertificateWithInvalidEcPointEncoding_IsRefusedAsInvalidCredentials()
    {
        string altered = Altered(pki.Source.CertificatePem, SubjectPublicKeyPoint, at: 3);

        InvalidCredentialsException error = Assert.Throws<InvalidCredentialsException>(() =>
            X509ChannelCredentials.FromPem(altered, pki.Source.PrivateKeyPem, pki.Ca.CertificatePem));
        Assert.Contains("cannot be read", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The same certificate presented by a peer in a handshake is refused as a protocol violation, with an alert.</summary>
    [Fact]
    public void ValidatePeerCertificate_InvalidEcPointEncoding_IsRefusedWithBadCertificate()
    {
        string altered = Altered(pki.Source.CertificatePem, SubjectPublicKeyPoint, at: 3);
        byte[] der = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(altered).RawData;
        var crypto = new Org.BouncyCastle.Tls.Crypto.Impl.BC.BcTlsCrypto();
        var presented = new Org.BouncyCastle.Tls.Certificate([crypto.CreateCertificate(der)]);
        using var state = new HandshakeState();

        Org.BouncyCastle.Tls.TlsFatalAlert alert = Assert.Throws<Org.BouncyCastle.Tls.TlsFatalAlert>(() =>
            TlsPeerConfiguration.ValidatePeerCertificate(presented, pki.Credentials(pki.Destination), new PeerPolicy(), peerIsServer: false,
                TimeProvider.System, state));

        Assert.Equal(Org.BouncyCastle.Tls.AlertDescription.bad_certificate, alert.AlertDescription);
        Assert.Equal(HandshakeFailureReason.ProtocolViolation, state.Failure?.Reason);
    }

    /// <summary>The start of a P-256 key's BIT STRING in its SubjectPublicKeyInfo: 65 bytes, no unused bits, uncompressed point.</summary>
    private static readonly byte[] SubjectPublicKeyPoint = [0x03, 0x42, 0x00, 0x04];

    /// <summary>The certificate with one more added to the byte <paramref name="at"/> bytes into <paramref name="pattern"/>.</summary>
    private static string Altered(string certificatePem, byte[] pattern, int at)
    {
        byte[] der = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(certificatePem).RawData;
        int found = der.AsSpan().IndexOf(pattern);
        Assert.True(found >= 0, "the certificate has no such bytes");
        der[found + at]++;
        return System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", der);
    }

    [Fact]
    public void FromPem_KeyOfAnotherCertificate_IsRefusedNamingBoth()
    {
        InvalidCredentialsException error = Assert.Throws<InvalidCredentialsException>(() =>
            X509ChannelCredentials.FromPem(pki.Source.CertificatePem, pki.Destination.PrivateKeyPem, pki.Ca.CertificatePem));

        Assert.Contains("does not belong to the certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromPemFiles_MissingFile_NamesThePath()
    {
        InvalidCredentialsException error = Assert.Throws<InvalidCredentialsException>(() =>
            X509ChannelCredentials.FromPemFiles("/nonexistent/cert.pem", "/nonexistent/key.pem", "/nonexistent/ca.pem"));

        Assert.Contains("/nonexistent/cert.pem", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Defense (issue 14, hole 7): a private key others can read is refused, as ssh refuses it, with the chmod to run.</summary>
    [Fact]
    public void FromPemFiles_KeyReadableByOthers_IsRefusedWithTheChmodToRun()
    {
        using var directory = new TempDirectory();
        pki.Source.WriteTo(directory.Path);
        File.WriteAllText(directory.File("ca.pem"), pki.Ca.CertificatePem);
        string key = directory.File("key.pem");
        X509ChannelCredentials.FromPemFiles(directory.File("cert.pem"), key, directory.File("ca.pem"));
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() =>
            X509ChannelCredentials.FromPemFiles(directory.File("cert.pem"), key, directory.File("ca.pem")));

        Assert.Contains($"chmod 600 {key}", refused.Message, StringComparison.Ordinal);
    }
}
