using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Pkcs;

namespace SecureMigration.Identity;

/// <summary>
/// The host's secret for authenticating what it writes to disk (the migration journal). Kept in a file of its own
/// (<see cref="LoadOrCreate"/>, what <c>secmig</c> and <c>AddSecureMigration</c> use), derived from the host's channel
/// credentials, or created from bytes. Subkeys are derived per
/// purpose with HKDF-SHA-256; the key is wiped on <see cref="Dispose"/>.
/// </summary>
public sealed class HostKey : IDisposable
{
    /// <summary>The length of the key, in bytes.</summary>
    public const int Length = 32;

    private static readonly byte[] Salt = "SecureMigration host key v1"u8.ToArray();
    private readonly byte[] _key;
    private bool _disposed;

    private HostKey(byte[] key) => _key = key;

    /// <summary>Creates a host key from secret bytes (at least <see cref="Length"/> of them, from a CSPRNG).</summary>
    /// <param name="secret">The secret; copied.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException">The secret is shorter than <see cref="Length"/> bytes.</exception>
    public static HostKey FromSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < Length)
        {
            throw new ArgumentException($"A host key needs at least {Length} secret bytes, and {secret.Length} were given; use 32 bytes " +
                $"from a cryptographic random source.", nameof(secret));
        }

        byte[] key = new byte[Length];
        HKDF.Extract(HashAlgorithmName.SHA256, secret, Salt, key);
        return new HostKey(key);
    }

    /// <summary>
    /// Derives the host key from the host's private key (X.509) or pre-shared key, bound to its identity. The same
    /// credentials always give the same key, so a journal stays readable across restarts.
    /// </summary>
    /// <param name="credentials">The host's channel credentials.</param>
    /// <returns>The key.</returns>
    public static HostKey FromCredentials(ChannelCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        byte[] material = credentials switch
        {
            X509ChannelCredentials x509 => PrivateKeyInfoFactory.CreatePrivateKeyInfo(x509.PrivateKey).GetEncoded(),
            PskChannelCredentials psk => psk.Key.ToArray(),
            PskKeyringCredentials => throw new ArgumentException(
                "A PSK keyring holds only keys this host shares with its peers, so it cannot give a key of this host's own: use " +
                    "HostKey.LoadOrCreate(path).",
                nameof(credentials)),
            _ => throw new ArgumentException($"Credentials of type {credentials.GetType().Name} cannot give a host key.",
                nameof(credentials)),
        };
        try
        {
            byte[] prk = HKDF.Extract(HashAlgorithmName.SHA256, material, Salt);
            try
            {
                return new HostKey(HKDF.Expand(HashAlgorithmName.SHA256, prk, Length,
                    Encoding.UTF8.GetBytes("host:" + credentials.LocalIdentity)));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(prk);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    /// <summary>
    /// Loads the host key kept in <paramref name="path"/>, or creates it there (32 random bytes as hex, mode 0600,
    /// created exclusively, so never through a symlink) when the file does not exist. A key of the host's own outlives
    /// certificate renewals and is not shared with any peer, unlike a key derived from credentials.
    /// </summary>
    /// <param name="path">The key file, for example <c>/var/lib/secmig/host.key</c>.</param>
    /// <returns>The key.</returns>
    /// <exception cref="InvalidCredentialsException">The file is a symlink, readable by others, or not a key.</exception>
    /// <exception cref="IOException">The file could not be created or read.</exception>
    public static HostKey LoadOrCreate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        if (!File.Exists(fullPath) && new FileInfo(fullPath).LinkTarget is null)
        {
            byte[] secret = RandomNumberGenerator.GetBytes(Length);
            byte[] text = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(secret) + "\n");
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var file = new FileStream(fullPath, options))
                {
                    file.Write(text);
                    file.Flush(flushToDisk: true);
                }

                Storage.DurableFile.FlushDirectory(Path.GetDirectoryName(fullPath)!);
                return FromSecret(secret);
            }
            catch (IOException) when (File.Exists(fullPath))
            {
                // Another process created it first: read theirs.
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
                CryptographicOperations.ZeroMemory(text);
            }
        }

        if (new FileInfo(fullPath).LinkTarget is not null)
        {
            throw new InvalidCredentialsException(fullPath, $"The host key '{fullPath}' is a symbolic link; a host key must be a plain " +
                $"file. Remove the link and start again to create one.");
        }

        SecretFiles.EnsureOwnerOnly(fullPath, "host key");
        if (new FileInfo(fullPath).Length > 1024)
        {
            throw new InvalidCredentialsException(fullPath, $"'{fullPath}' is not a host key (it is over 1 KiB). Check the path.");
        }

        byte[] key;
        try
        {
            key = Convert.FromHexString(File.ReadAllText(fullPath).Trim());
        }
        catch (FormatException e)
        {
            throw new InvalidCredentialsException(fullPath, $"The host key '{fullPath}' is not hexadecimal text. Restore it from a " +
                $"backup; a new key cannot read the old journal.", e);
        }

        try
        {
            if (key.Length < Length)
            {
                throw new InvalidCredentialsException(fullPath, $"The host key '{fullPath}' has {key.Length} bytes; {Length} are needed. " +
                    $"Restore it from a backup.");
            }

            return FromSecret(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Derives the subkey for one purpose; the caller wipes it.</summary>
    internal byte[] DeriveSubkey(string purpose)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return HKDF.Expand(HashAlgorithmName.SHA256, _key, Length, Encoding.UTF8.GetBytes("SecureMigration " + purpose));
    }

    /// <summary>Wipes the key.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(_key);
    }
}
