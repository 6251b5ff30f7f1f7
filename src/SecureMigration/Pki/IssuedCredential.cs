namespace SecureMigration.Pki;

/// <summary>A certificate and its private key in PEM, as <c>openssl</c> writes them.</summary>
/// <param name="CertificatePem">The certificate (<c>-----BEGIN CERTIFICATE-----</c>).</param>
/// <param name="PrivateKeyPem">The unencrypted PKCS#8 private key (<c>-----BEGIN PRIVATE KEY-----</c>).</param>
public sealed record IssuedCredential(string CertificatePem, string PrivateKeyPem)
{
    /// <summary>
    /// Writes <c>cert.pem</c> and <c>key.pem</c> into a directory. The key is created exclusively with mode 0600: an
    /// existing key (or a symlink planted where it goes) is never overwritten or followed.
    /// </summary>
    /// <param name="directory">The directory, created if missing.</param>
    /// <param name="certificateFileName">The certificate's file name.</param>
    /// <param name="keyFileName">The key's file name.</param>
    /// <exception cref="IOException">The key file already exists; move it away first (the journal does not depend on it).</exception>
    public void WriteTo(string directory, string certificateFileName = "cert.pem", string keyFileName = "key.pem")
    {
        Directory.CreateDirectory(directory);
        string keyPath = Path.Combine(directory, keyFileName);
        if (File.Exists(keyPath) || new FileInfo(keyPath).LinkTarget is not null)
        {
            throw new IOException($"'{keyPath}' already exists; a private key is never overwritten. Move it away (or choose another --out) and issue again.");
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(new FileStream(keyPath, options)))
        {
            writer.Write(PrivateKeyPem);
        }

        // The certificate goes in after its key, through a new file renamed over the old one: a symlink planted where
        // it goes is replaced, never written through.
        string certificatePath = Path.Combine(directory, certificateFileName);
        string temporary = Path.Combine(directory, $".{certificateFileName}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, CertificatePem);
        File.Move(temporary, certificatePath, overwrite: true);
    }
}
