using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace SecureMigration.Channel.Tls;

/// <summary>
/// BouncyCastle's TLS crypto with record protection delegated to .NET's hardware-accelerated AEADs.
/// The handshake, key schedule and signatures stay in BouncyCastle.
/// </summary>
internal sealed class HardwareAeadTlsCrypto : BcTlsCrypto
{
    public HardwareAeadTlsCrypto()
        : base(new SecureRandom())
    {
    }

    protected override TlsAeadCipher CreateCipher_Aes_Gcm(TlsCryptoParameters cryptoParams, int cipherKeySize, int macSize) =>
        new(cryptoParams, HardwareAeadCipherImpl.AesGcm(isEncrypting: true), HardwareAeadCipherImpl.AesGcm(isEncrypting: false),
            cipherKeySize, macSize, TlsAeadCipher.AEAD_GCM);

    protected override TlsCipher CreateChaCha20Poly1305(TlsCryptoParameters cryptoParams)
    {
        if (!System.Security.Cryptography.ChaCha20Poly1305.IsSupported)
        {
            return base.CreateChaCha20Poly1305(cryptoParams);
        }

        return new TlsAeadCipher(cryptoParams, HardwareAeadCipherImpl.ChaCha20Poly1305(isEncrypting: true),
            HardwareAeadCipherImpl.ChaCha20Poly1305(isEncrypting: false), 32, 16, TlsAeadCipher.AEAD_CHACHA20_POLY1305);
    }
}
