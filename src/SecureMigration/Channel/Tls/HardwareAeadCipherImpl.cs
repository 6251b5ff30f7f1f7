using System.Security.Cryptography;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl;

namespace SecureMigration.Channel.Tls;

/// <summary>
/// A BouncyCastle record-protection cipher backed by .NET's <see cref="AesGcm"/> or
/// <see cref="ChaCha20Poly1305"/> (OpenSSL with AES-NI), so the bulk path runs at hardware speed while
/// BouncyCastle keeps the standard TLS 1.3 record format.
/// </summary>
internal sealed class HardwareAeadCipherImpl : TlsAeadCipherImpl, IDisposable
{
    private const int TagSize = 16;
    private const int NonceSize = 12;

    private readonly bool _isEncrypting;
    private readonly bool _isChaCha;
    private readonly byte[] _nonce = new byte[NonceSize];
    private byte[] _additionalData = [];
    private AesGcm? _aes;
    private ChaCha20Poly1305? _chacha;

    private HardwareAeadCipherImpl(bool isEncrypting, bool isChaCha)
    {
        _isEncrypting = isEncrypting;
        _isChaCha = isChaCha;
    }

    public static HardwareAeadCipherImpl AesGcm(bool isEncrypting) => new(isEncrypting, isChaCha: false);

    public static HardwareAeadCipherImpl ChaCha20Poly1305(bool isEncrypting) => new(isEncrypting, isChaCha: true);

    public void SetKey(byte[] key, int keyOff, int keyLen) => SetKey(key.AsSpan(keyOff, keyLen));

    public void SetKey(ReadOnlySpan<byte> key)
    {
        DisposeKeys();
        if (_isChaCha)
        {
            _chacha = new ChaCha20Poly1305(key);
        }
        else
        {
            _aes = new AesGcm(key, TagSize);
        }
    }

    public void Init(byte[] nonce, int macSize, byte[]? additionalData)
    {
        if (nonce.Length != NonceSize || macSize != TagSize)
        {
            throw new TlsFatalAlert(AlertDescription.internal_error);
        }

        nonce.CopyTo(_nonce, 0);
        _additionalData = additionalData ?? [];
    }

    public int GetOutputSize(int inputLength) => _isEncrypting ? inputLength + TagSize : Math.Max(0, inputLength - TagSize);

    public int DoFinal(byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset) =>
        DoFinal(_additionalData, input, inputOffset, inputLength, output, outputOffset);

    public int DoFinal(byte[]? additionalData, byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset)
    {
        ReadOnlySpan<byte> aad = additionalData ?? _additionalData;
        if (_isEncrypting)
        {
            ReadOnlySpan<byte> plaintext = input.AsSpan(inputOffset, inputLength);
            Span<byte> ciphertext = output.AsSpan(outputOffset, inputLength);
            Span<byte> tag = output.AsSpan(outputOffset + inputLength, TagSize);
            if (_isChaCha)
            {
                Chacha.Encrypt(_nonce, plaintext, ciphertext, tag, aad);
            }
            else
            {
                Aes.Encrypt(_nonce, plaintext, ciphertext, tag, aad);
            }

            return inputLength + TagSize;
        }

        if (inputLength < TagSize)
        {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac);
        }

        int plaintextLength = inputLength - TagSize;
        ReadOnlySpan<byte> cipherBytes = input.AsSpan(inputOffset, plaintextLength);
        ReadOnlySpan<byte> receivedTag = input.AsSpan(inputOffset + plaintextLength, TagSize);
        Span<byte> plainBytes = output.AsSpan(outputOffset, plaintextLength);
        try
        {
            if (_isChaCha)
            {
                Chacha.Decrypt(_nonce, cipherBytes, receivedTag, plainBytes, aad);
            }
            else
            {
                Aes.Decrypt(_nonce, cipherBytes, receivedTag, plainBytes, aad);
            }
        }
        catch (AuthenticationTagMismatchException e)
        {
            // .NET has already zeroed the output: no unauthenticated plaintext is ever exposed.
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        }

        return plaintextLength;
    }

    public void Reset()
    {
    }

    public void Dispose() => DisposeKeys();

    private AesGcm Aes => _aes ?? throw new TlsFatalAlert(AlertDescription.internal_error);

    private ChaCha20Poly1305 Chacha => _chacha ?? throw new TlsFatalAlert(AlertDescription.internal_error);

    private void DisposeKeys()
    {
        _aes?.Dispose();
        _chacha?.Dispose();
        _aes = null;
        _chacha = null;
    }
}
