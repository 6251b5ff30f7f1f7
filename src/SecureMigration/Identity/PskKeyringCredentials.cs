using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SecureMigration.Identity;

/// <summary>
/// Pre-shared keys that prove host identities: one key for each pair of hosts, kept by this host under the peer's
/// identity (a keyring file has <c>identity:hexkey</c> lines, as QEMU's <c>tls-creds-psk</c> keys file does). As the
/// connecting end this host offers its own identity with the key it shares with the expected peer; as the accepting
/// end it looks up the offered identity. Only the two hosts of a pair hold their key, so the peer's identity is the one
/// it proved, and it is checked against the allow-list and the ticket's names exactly as a certificate name is. The
/// handshake uses <c>psk_dhe_ke</c> only (forward secrecy). A line under this host's own identity is its own key,
/// never used in a handshake: it seals the ownership records this host writes for itself to read back. Dispose to wipe
/// the keys.
/// </summary>
public sealed class PskKeyringCredentials : ChannelCredentials, IDisposable
{
    /// <summary>The most keys a keyring holds.</summary>
    public const int MaximumKeys = 4096;

    private const long MaximumFileBytes = 1 << 20;

    private readonly Dictionary<string, byte[]> _keys;
    private readonly byte[]? _ownKey;
    private bool _disposed;

    /// <summary>Creates a keyring for the host <paramref name="localIdentity"/>; the keys are copied.</summary>
    /// <param name="localIdentity">This host's identity, which it offers as its PSK identity (printable, at most 128 bytes).</param>
    /// <param name="peerKeys">
    /// The key this host shares with each peer, by the peer's identity (each at least 32 random bytes); a key under
    /// <paramref name="localIdentity"/> is this host's own (see the class remarks).
    /// </param>
    /// <exception cref="InvalidCredentialsException">An identity or key is unfit, or there are too many keys.</exception>
    public PskKeyringCredentials(string localIdentity, IReadOnlyDictionary<string, byte[]> peerKeys)
    {
        ArgumentNullException.ThrowIfNull(peerKeys);
        PskChannelCredentials.EnsureIdentity(localIdentity, "this host's identity");
        if (peerKeys.Count > MaximumKeys)
        {
            throw new InvalidCredentialsException("the PSK keyring", $"The keyring holds {peerKeys.Count} keys; at most {MaximumKeys} " +
                $"are accepted.");
        }

        _keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach ((string peer, byte[] key) in peerKeys)
        {
            PskChannelCredentials.EnsureIdentity(peer, "a peer's PSK identity");
            PskChannelCredentials.EnsureKey(key, $"the key for '{peer}'");
            if (string.Equals(peer, localIdentity, StringComparison.Ordinal))
            {
                _ownKey = [.. key];
            }
            else
            {
                _keys.Add(peer, [.. key]);
            }
        }

        LocalIdentity = localIdentity;
        IdentityBytes = Encoding.UTF8.GetBytes(localIdentity);
    }

    /// <inheritdoc />
    public override string LocalIdentity { get; }

    /// <summary>Gets the identities of the peers this host shares a key with.</summary>
    public IReadOnlyCollection<string> Peers => _keys.Keys;

    internal byte[] IdentityBytes { get; }

    /// <summary>
    /// Loads a keyring file: one <c>identity:hexkey</c> line per peer (written by <c>secmig pki psk --identity</c>);
    /// blank lines and lines starting with <c>#</c> are skipped. The file must be readable by its owner only.
    /// </summary>
    /// <param name="path">The keyring file.</param>
    /// <param name="localIdentity">This host's identity.</param>
    /// <returns>The credentials.</returns>
    /// <exception cref="InvalidCredentialsException">The file is missing, readable by others, too large, or has a bad or repeated
    /// line.</exception>
    public static PskKeyringCredentials FromFile(string path, string localIdentity)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] contents;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaximumFileBytes)
            {
                throw new InvalidCredentialsException(path, $"'{path}' is {info.Length} bytes; a keyring holds at most {MaximumKeys} " +
                    $"lines of identity:hexkey. Check the path.");
            }

            SecretFiles.EnsureOwnerOnly(path, "PSK keyring");
            contents = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidCredentialsException(path, $"Cannot read the PSK keyring '{path}': {e.Message} Check the path and " +
                $"permissions.", e);
        }

        // The file is parsed as bytes, never as strings, so every copy of a key can be wiped.
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            int number = 0;
            foreach (Range range in contents.AsSpan().Split((byte)'\n'))
            {
                number++;
                ReadOnlySpan<byte> line = contents.AsSpan(range).Trim(" \t\r"u8);
                if (line.IsEmpty || line[0] == (byte)'#')
                {
                    continue;
                }

                int colon = line.LastIndexOf((byte)':');
                if (colon <= 0)
                {
                    throw new InvalidCredentialsException(path, $"Line {number} of the PSK keyring '{path}' is not identity:hexkey. " +
                        $"Write keyrings with 'secmig pki psk --identity NAME'.");
                }

                string identity = Encoding.UTF8.GetString(line[..colon]);
                byte[] key = DecodeHex(line[(colon + 1)..]) ??
                    throw new InvalidCredentialsException(path, $"The key on line {number} of the PSK keyring '{path}' is not " +
                        $"hexadecimal.");
                if (!keys.TryAdd(identity, key))
                {
                    CryptographicOperations.ZeroMemory(key);
                    throw new InvalidCredentialsException(path, string.Create(CultureInfo.InvariantCulture,
                        $"The PSK keyring '{path}' names '{Text.UntrustedText.Bound(identity, 160)}' twice (line {number}); keep one key " +
                            $"per peer."));
                }
            }

            return new PskKeyringCredentials(localIdentity, keys);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contents);
            foreach (byte[] key in keys.Values)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }

    /// <summary>Decodes hexadecimal digits, or returns <see langword="null"/> when <paramref name="hex"/> is not an even run of
    /// them.</summary>
    private static byte[]? DecodeHex(ReadOnlySpan<byte> hex)
    {
        if (hex.IsEmpty || hex.Length % 2 != 0)
        {
            return null;
        }

        byte[] key = new byte[hex.Length / 2];
        for (int i = 0; i < key.Length; i++)
        {
            int high = HexDigit(hex[2 * i]);
            int low = HexDigit(hex[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                CryptographicOperations.ZeroMemory(key);
                return null;
            }

            key[i] = (byte)((high << 4) | low);
        }

        return key;
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Gets the key this host shares with <paramref name="peer"/>, or <see langword="null"/> when it has none.</summary>
    internal byte[]? KeyFor(string peer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _keys.GetValueOrDefault(peer);
    }

    /// <summary>Gets this host's own key (the keyring's line under its own identity), or <see langword="null"/> when it has none.</summary>
    internal byte[]? OwnKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _ownKey;
        }
    }

    /// <summary>Wipes the keys.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            foreach (byte[] key in _keys.Values)
            {
                CryptographicOperations.ZeroMemory(key);
            }

            if (_ownKey is not null)
            {
                CryptographicOperations.ZeroMemory(_ownKey);
            }

            _disposed = true;
        }
    }
}
