using System.Security.Cryptography;
using System.Text;

namespace SecureMigration.Identity;

/// <summary>
/// One pre-shared key that the whole cluster shares, with one identity for all. Every holder can claim to be any host:
/// the peer's host name is not proven, so neither the allow-list nor a ticket's names can be checked against it, and a
/// holder can pose as any VM's owner or as any destination. Use <see cref="PskKeyringCredentials"/> (a key per pair of
/// hosts) or certificates wherever hosts do not trust each other. The handshake uses <c>psk_dhe_ke</c> only, so every
/// session still gets forward secrecy from an ephemeral (EC)DHE exchange. Dispose to wipe the key.
/// </summary>
public sealed class PskChannelCredentials : ChannelCredentials, IDisposable
{
    /// <summary>The smallest key accepted, in bytes.</summary>
    public const int MinimumKeyLength = 32;

    /// <summary>The largest identity accepted, in UTF-8 bytes.</summary>
    public const int MaximumIdentityLength = 128;

    private readonly byte[] _key;
    private bool _disposed;

    /// <summary>Creates credentials from an identity and a key; the key is copied.</summary>
    /// <param name="identity">The PSK identity both ends agree on (printable, at most 128 bytes).</param>
    /// <param name="key">The secret key, at least 32 bytes of random data.</param>
    /// <exception cref="InvalidCredentialsException">The identity or key is unfit.</exception>
    public PskChannelCredentials(string identity, ReadOnlySpan<byte> key)
    {
        EnsureIdentity(identity, "the PSK identity");
        EnsureKey(key, "the PSK");
        LocalIdentity = identity;
        IdentityBytes = Encoding.UTF8.GetBytes(identity);
        _key = key.ToArray();
    }

    /// <inheritdoc />
    public override string LocalIdentity { get; }

    internal byte[] IdentityBytes { get; }

    internal ReadOnlySpan<byte> Key
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _key;
        }
    }

    /// <summary>Loads a key written by <c>secmig pki psk</c> or <c>openssl rand -hex 32</c>: hexadecimal text.</summary>
    /// <param name="path">The key file.</param>
    /// <param name="identity">The PSK identity.</param>
    /// <returns>The credentials.</returns>
    /// <exception cref="InvalidCredentialsException">The file is missing, unreadable, not hex, or too short.</exception>
    public static PskChannelCredentials FromHexFile(string path, string identity)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > 4096)
            {
                throw new InvalidCredentialsException(path, $"'{path}' is {info.Length} bytes; a PSK file holds one line of hex. Check " +
                    $"the path.");
            }

            SecretFiles.EnsureOwnerOnly(path, "PSK file");
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidCredentialsException(path, $"Cannot read the PSK file '{path}': {e.Message} Check the path and permissions.",
                e);
        }

        byte[] key;
        try
        {
            key = Convert.FromHexString(text);
        }
        catch (FormatException e)
        {
            throw new InvalidCredentialsException(path, $"The PSK file '{path}' is not hexadecimal text. Create one with 'secmig pki psk " +
                $"--out FILE'.", e);
        }

        try
        {
            return new PskChannelCredentials(identity, key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Throws unless <paramref name="identity"/> is 1 to 128 UTF-8 bytes of printable text without ':'.</summary>
    internal static void EnsureIdentity(string identity, string what)
    {
        ArgumentNullException.ThrowIfNull(identity);
        int identityBytes = Encoding.UTF8.GetByteCount(identity);
        if (identityBytes == 0 || identityBytes > MaximumIdentityLength || identity.Any(c => char.IsControl(c) || c == ':'))
        {
            throw new InvalidCredentialsException(what,
                $"A PSK identity ({what}) must be 1 to {MaximumIdentityLength} UTF-8 bytes of printable text without ':'; got " +
                    $"{identityBytes} bytes.");
        }
    }

    /// <summary>Throws unless <paramref name="key"/> has at least 32 bytes.</summary>
    internal static void EnsureKey(ReadOnlySpan<byte> key, string what)
    {
        if (key.Length < MinimumKeyLength)
        {
            throw new InvalidCredentialsException(what,
                $"The pre-shared key ({what}) is {key.Length} bytes; at least {MinimumKeyLength} random bytes are required. Create one " +
                    $"with 'secmig pki psk'.");
        }
    }

    /// <summary>Wipes the key.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_key);
            _disposed = true;
        }
    }
}
