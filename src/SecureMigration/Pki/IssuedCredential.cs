namespace SecureMigration.Pki;

/// <summary>A certificate and its private key in PEM, as <c>openssl</c> writes them.</summary>
/// <param name="CertificatePem">The certificate (<c>-----BEGIN CERTIFICATE-----</c>).</param>
/// <param name="PrivateKeyPem">The unencrypted PKCS#8 private key (<c>-----BEGIN PRIVATE KEY-----</c>).</param>
public sealed record IssuedCredential(string CertificatePem, string PrivateKeyPem)
{
    /// <summary>Writes <c>cert.pem</c> and <c>key.pem</c> (the key readable by the owner only) into a directory.</summary>
    /// <param name="directory">The directory, created if missing.</param>
    /// <param name="certificateFileName">The certificate's file name.</param>
    /// <param name="keyFileName">The key's file name.</param>
    public void WriteTo(string directory, string certificateFileName = "cert.pem", string keyFileName = "key.pem")
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, certificateFileName), CertificatePem);
        string keyPath = Path.Combine(directory, keyFileName);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(keyPath, options);
        using var writer = new StreamWriter(stream);
        writer.Write(PrivateKeyPem);
    }
}
