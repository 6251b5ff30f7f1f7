using System.Security.Cryptography;

namespace SecureMigration.Channel.Records;

/// <summary>
/// One direction's TLS 1.3 traffic protection: the AEAD key and IV derived from a traffic secret, the record
/// sequence number, and KeyUpdate. Secrets and keys are wiped when replaced or disposed.
/// </summary>
internal sealed class TrafficKey : IDisposable
{
    public const int TagLength = 16;
    private const int IvLength = 12;

    private readonly RecordCipherSuite _suite;
    private readonly byte[] _iv = new byte[IvLength];
    private byte[] _secret = [];
    private AesGcm? _aes;
    private ChaCha20Poly1305? _chacha;

    public TrafficKey(RecordCipherSuite suite, byte[] secret)
    {
        _suite = suite;
        Install(secret);
    }

    /// <summary>Gets the number of records protected under the current key.</summary>
    public ulong Sequence { get; private set; }

    /// <summary>Encrypts <paramref name="inner"/> in place and writes the tag; the header is the additional data.</summary>
    public void Seal(ReadOnlySpan<byte> header, Span<byte> inner, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[IvLength];
        NextNonce(nonce);
        if (_chacha is not null)
        {
            _chacha.Encrypt(nonce, inner, inner, tag, header);
        }
        else
        {
            _aes!.Encrypt(nonce, inner, inner, tag, header);
        }
    }

    /// <summary>Decrypts and authenticates; <see langword="false"/> (with <paramref name="plaintext"/> zeroed) when the record was
    /// altered.</summary>
    public bool TryOpen(ReadOnlySpan<byte> header, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext)
    {
        Span<byte> nonce = stackalloc byte[IvLength];
        NextNonce(nonce);
        try
        {
            if (_chacha is not null)
            {
                _chacha.Decrypt(nonce, ciphertext, tag, plaintext, header);
            }
            else
            {
                _aes!.Decrypt(nonce, ciphertext, tag, plaintext, header);
            }

            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    /// <summary>RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).</summary>
    public void Update()
    {
        byte[] next = KeySchedule.ExpandLabel(_suite.Hash, _secret, "traffic upd", _suite.HashLength);
        Install(next);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_secret);
        CryptographicOperations.ZeroMemory(_iv);
        _aes?.Dispose();
        _chacha?.Dispose();
    }

    private void Install(byte[] secret)
    {
        CryptographicOperations.ZeroMemory(_secret);
        _aes?.Dispose();
        _chacha?.Dispose();
        _aes = null;
        _chacha = null;
        _secret = secret;
        byte[] key = KeySchedule.ExpandLabel(_suite.Hash, secret, "key", _suite.KeyLength);
        byte[] iv = KeySchedule.ExpandLabel(_suite.Hash, secret, "iv", IvLength);
        iv.CopyTo(_iv, 0);
        if (_suite.IsChaCha)
        {
            _chacha = new ChaCha20Poly1305(key);
        }
        else
        {
            _aes = new AesGcm(key, TagLength);
        }

        CryptographicOperations.ZeroMemory(key);
        CryptographicOperations.ZeroMemory(iv);
        Sequence = 0;
    }

    private void NextNonce(Span<byte> nonce)
    {
        // RFC 8446 §5.3: the 64-bit sequence number, left-padded to the IV length, XORed with the IV.
        _iv.CopyTo(nonce);
        ulong sequence = Sequence++;
        for (int i = 0; i < 8; i++)
        {
            nonce[IvLength - 1 - i] ^= (byte)(sequence >> (8 * i));
        }
    }
}
