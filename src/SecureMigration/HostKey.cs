using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Pkcs;
using SecureMigration.Channel.Credentials;

namespace SecureMigration;

/// <summary>
/// The host's secret for authenticating what it writes to disk (the migration journal). Derived from the host's
/// channel credentials, so no second secret has to be provisioned, or created from bytes. Subkeys are derived per
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
            throw new ArgumentException($"A host key needs at least {Length} secret bytes, and {secret.Length} were given; use 32 bytes from a cryptographic random source.", nameof(secret));
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
            _ => throw new ArgumentException($"Credentials of type {credentials.GetType().Name} cannot give a host key.", nameof(credentials)),
        };
        try
        {
            byte[] prk = HKDF.Extract(HashAlgorithmName.SHA256, material, Salt);
            try
            {
                return new HostKey(HKDF.Expand(HashAlgorithmName.SHA256, prk, Length, Encoding.UTF8.GetBytes("host:" + credentials.LocalIdentity)));
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
