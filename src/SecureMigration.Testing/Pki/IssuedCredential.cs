namespace SecureMigration.Testing.Pki;

/// <summary>A certificate and its private key in PEM, as <c>openssl</c> writes them.</summary>
/// <param name="CertificatePem">The certificate (<c>-----BEGIN CERTIFICATE-----</c>).</param>
/// <param name="PrivateKeyPem">The unencrypted PKCS#8 private key (<c>-----BEGIN PRIVATE KEY-----</c>).</param>
public sealed record IssuedCredential(string CertificatePem, string PrivateKeyPem)
{
    /// <summary>
    /// Writes <c>cert.pem</c> and <c>key.pem</c> into a directory. The key is created exclusively with mode 0600: an
    /// existing key (or a symlink planted where it goes) is never overwritten or followed, unless
    /// <paramref name="replaceKey"/> says so; then the new key is created beside it and renamed over it (a symlink there
    /// is replaced, never written through).
    /// </summary>
    /// <param name="directory">The directory, created if missing.</param>
    /// <param name="certificateFileName">The certificate's file name.</param>
    /// <param name="keyFileName">The key's file name.</param>
    /// <param name="replaceKey">Whether an existing key is replaced (a certificate renewal with a new key).</param>
    /// <exception cref="IOException">The key file already exists and <paramref name="replaceKey"/> is not set.</exception>
    public void WriteTo(string directory, string certificateFileName = "cert.pem", string keyFileName = "key.pem", bool replaceKey = false)
    {
        Directory.CreateDirectory(directory);
        string keyPath = Path.Combine(directory, keyFileName);
        if (!replaceKey && (File.Exists(keyPath) || new FileInfo(keyPath).LinkTarget is not null))
        {
            throw new IOException($"'{keyPath}' already exists; a private key is never overwritten. To renew the certificate with a new " +
                $"key, " +
                "say so (secmig pki issue --replace-key); the journal and audit log stay readable, they use the host key, not this one.");
        }

        // The key is created exclusively (mode 0600, never through a link) under a fresh name, then renamed into place;
        // the certificate follows the same way, so neither is ever written through a planted symlink.
        string newKey = Path.Combine(directory, $".{keyFileName}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(new FileStream(newKey, options)))
        {
            writer.Write(PrivateKeyPem);
        }

        File.Move(newKey, keyPath, overwrite: replaceKey);
        string certificatePath = Path.Combine(directory, certificateFileName);
        string temporary = Path.Combine(directory, $".{certificateFileName}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, CertificatePem);
        File.Move(temporary, certificatePath, overwrite: true);
    }
}
