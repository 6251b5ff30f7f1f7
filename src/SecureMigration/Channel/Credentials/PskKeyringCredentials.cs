using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SecureMigration.Storage;

namespace SecureMigration.Channel.Credentials;

/// <summary>
/// Pre-shared keys that prove host identities: one key for each pair of hosts, kept by this host under the peer's
/// identity (a keyring file has <c>identity:hexkey</c> lines, as QEMU's <c>tls-creds-psk</c> keys file does). As the
/// connecting end this host offers its own identity with the key it shares with the expected peer; as the accepting
/// end it looks up the offered identity. Only the two hosts of a pair hold their key, so the peer's identity is the one
/// it proved, and it is checked against the allow-list and the ticket's names exactly as a certificate name is. The
/// handshake uses <c>psk_dhe_ke</c> only (forward secrecy). Dispose to wipe the keys.
/// </summary>
public sealed class PskKeyringCredentials : ChannelCredentials, IDisposable
{
    /// <summary>The most keys a keyring holds.</summary>
    public const int MaximumKeys = 4096;

    private const long MaximumFileBytes = 1 << 20;

    private readonly Dictionary<string, byte[]> _keys;
    private bool _disposed;

    /// <summary>Creates a keyring for the host <paramref name="localIdentity"/>; the keys are copied.</summary>
    /// <param name="localIdentity">This host's identity, which it offers as its PSK identity (printable, at most 128 bytes).</param>
    /// <param name="peerKeys">The key this host shares with each peer, by the peer's identity (each at least 32 random bytes).</param>
    /// <exception cref="InvalidCredentialsException">An identity or key is unfit, or there are too many keys.</exception>
    public PskKeyringCredentials(string localIdentity, IReadOnlyDictionary<string, byte[]> peerKeys)
    {
        ArgumentNullException.ThrowIfNull(peerKeys);
        PskChannelCredentials.EnsureIdentity(localIdentity, "this host's identity");
        if (peerKeys.Count > MaximumKeys)
        {
            throw new InvalidCredentialsException("the PSK keyring", $"The keyring holds {peerKeys.Count} keys; at most {MaximumKeys} are accepted.");
        }

        _keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach ((string peer, byte[] key) in peerKeys)
        {
            PskChannelCredentials.EnsureIdentity(peer, "a peer's PSK identity");
            PskChannelCredentials.EnsureKey(key, $"the key for '{peer}'");
            _keys.Add(peer, [.. key]);
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
    /// <exception cref="InvalidCredentialsException">The file is missing, readable by others, too large, or has a bad or repeated line.</exception>
    public static PskKeyringCredentials FromFile(string path, string localIdentity)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] lines;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaximumFileBytes)
            {
                throw new InvalidCredentialsException(path, $"'{path}' is {info.Length} bytes; a keyring holds at most {MaximumKeys} lines of identity:hexkey. Check the path.");
            }

            SecretFiles.EnsureOwnerOnly(path, "PSK keyring");
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidCredentialsException(path, $"Cannot read the PSK keyring '{path}': {e.Message} Check the path and permissions.", e);
        }

        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            for (int number = 1; number <= lines.Length; number++)
            {
                string line = lines[number - 1].Trim();
                if (line.Length == 0 || line[0] == '#')
                {
                    continue;
                }

                int colon = line.LastIndexOf(':');
                if (colon <= 0)
                {
                    throw new InvalidCredentialsException(path, $"Line {number} of the PSK keyring '{path}' is not identity:hexkey. Write keyrings with 'secmig pki psk --identity NAME'.");
                }

                string identity = line[..colon];
                byte[] key;
                try
                {
                    key = Convert.FromHexString(line[(colon + 1)..]);
                }
                catch (FormatException e)
                {
                    throw new InvalidCredentialsException(path, $"The key on line {number} of the PSK keyring '{path}' is not hexadecimal.", e);
                }

                if (!keys.TryAdd(identity, key))
                {
                    CryptographicOperations.ZeroMemory(key);
                    throw new InvalidCredentialsException(path, string.Create(CultureInfo.InvariantCulture,
                        $"The PSK keyring '{path}' names '{Text.UntrustedText.Bound(identity, 160)}' twice (line {number}); keep one key per peer."));
                }
            }

            return new PskKeyringCredentials(localIdentity, keys);
        }
        finally
        {
            foreach (byte[] key in keys.Values)
            {
                CryptographicOperations.ZeroMemory(key);
            }
        }
    }

    /// <summary>Gets the key this host shares with <paramref name="peer"/>, or <see langword="null"/> when it has none.</summary>
    internal byte[]? KeyFor(string peer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _keys.GetValueOrDefault(peer);
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

            _disposed = true;
        }
    }
}
