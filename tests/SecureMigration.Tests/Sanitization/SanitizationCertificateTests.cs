using System.Text.Json;
using SecureMigration.Identity;
using SecureMigration.Sanitization;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

public sealed class SanitizationCertificateTests(TestPki pki) : IClassFixture<TestPki>
{
    [Fact]
    public async Task Sign_ThenVerify_HoldsAndCarriesTheNistFields()
    {
        string signed = await SignedCertificateOfAWipeAsync();

        CertificateVerification verification = SanitizationCertificates.Verify(signed, pki.Ca.CertificatePem);

        Assert.True(verification.IsValid, verification.Problem);
        SanitizationCertificate certificate = verification.Certificate!;
        Assert.Equal("source.test", certificate.PerformedBy);
        Assert.Equal("Sanitized", certificate.Result);
        Assert.Equal("Clear", certificate.SanitizationCategory);
        Assert.StartsWith("NistClear: 0x00", certificate.SanitizationTechnique, StringComparison.Ordinal);
        Assert.Equal(1.0, certificate.VerificationCoverage);
        Assert.Equal(8192, certificate.MediaSize);
        // The certificate binds the very file: its device and inode, besides its path and size.
        Assert.Matches(@"^\d+:\d+/\d+$", certificate.MediaDeviceAndInode);
        Assert.NotEmpty(certificate.Caveats);
        Assert.Contains("CN=source.test", verification.Signer, StringComparison.Ordinal);
    }

    /// <summary>Fuzzing (docs/fuzzing.md, finding 3): a signed payload that is not a certificate is a verdict, not a JSON
    /// exception.</summary>
    [Fact]
    public void Verify_SignedPayloadThatIsNotACertificate_IsRefusedWithAVerdict()
    {
        X509ChannelCredentials signer = pki.Credentials(pki.Source);
        SignedEnvelope envelope = HostSignatures.Sign("SecureMigration sanitization certificate v1", "{\"CertificateId\": \"not a guid\"}",
            signer);
        string signed = JsonSerializer.Serialize(envelope, SanitizationJson.Default.SignedEnvelope);

        CertificateVerification verification = SanitizationCertificates.Verify(signed, pki.Ca.CertificatePem);

        Assert.False(verification.IsValid);
        Assert.Contains("not a certificate", verification.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OneCharacterChanged_IsRefused()
    {
        string signed = await SignedCertificateOfAWipeAsync();
        string tampered = signed.Replace("\\u0022Sanitized\\u0022", "\\u0022Sanitizes\\u0022", StringComparison.Ordinal);
        Assert.NotEqual(signed, tampered);

        CertificateVerification verification = SanitizationCertificates.Verify(tampered);

        Assert.False(verification.IsValid);
        Assert.Contains("signature does not match", verification.Problem, StringComparison.Ordinal);
        Assert.Null(verification.Certificate);
    }

    [Fact]
    public async Task Verify_SignerFromAnotherCa_IsRefusedWhenTheCaIsGiven()
    {
        SecureMigration.Testing.Pki.IssuedCredential rogue = pki.OtherCa.IssueHost("source.test");
        string signed = await SignedCertificateOfAWipeAsync(X509ChannelCredentials.FromPem(rogue.CertificatePem, rogue.PrivateKeyPem,
            pki.OtherCa.CertificatePem));

        Assert.True(SanitizationCertificates.Verify(signed).IsValid);
        CertificateVerification againstCa = SanitizationCertificates.Verify(signed, pki.Ca.CertificatePem);
        Assert.False(againstCa.IsValid);
        Assert.Contains("not vouched for by the CA", againstCa.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_SignedByAnotherHostThanPerformedBy_IsRefusedNamingBoth()
    {
        // Defense: the signer's certificate name must equal PerformedBy: a host cannot vouch for another's wipe.
        string signed = await SignedCertificateOfAWipeAsync(pki.Credentials(pki.Destination));

        CertificateVerification verification = SanitizationCertificates.Verify(signed, pki.Ca.CertificatePem);

        Assert.False(verification.IsValid);
        Assert.Contains("performed by 'source.test', but it is signed by 'destination.test'", verification.Problem,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("{\"format\":\"SecureMigration sanitization certificate " +
        "v1\",\"payload\":\"{}\",\"signatureAlgorithm\":\"SHA-256withECDSA\",\"signerCertificate\":\"x\",\"signature\":\"AAAA\"}")]
    public void Verify_Garbage_IsRefusedWithAReason(string text)
    {
        CertificateVerification verification = SanitizationCertificates.Verify(text);

        Assert.False(verification.IsValid);
        Assert.False(string.IsNullOrEmpty(verification.Problem));
    }

    private async Task<string> SignedCertificateOfAWipeAsync(X509ChannelCredentials? signer = null)
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("old.img"), new byte[8192]);
        SanitizationReport report = await new BlockSanitizer().SanitizeFileAsync(dir.File("old.img"), SanitizationMethod.NistClear);
        return SanitizationCertificates.Sign(SanitizationCertificate.From(report, "source.test"), signer ?? pki.Credentials(pki.Source));
    }
}
