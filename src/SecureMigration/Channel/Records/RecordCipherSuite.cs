using System.Security.Cryptography;

namespace SecureMigration.Channel.Records;

/// <summary>What the record layer needs to know of a negotiated TLS 1.3 cipher suite.</summary>
internal sealed record RecordCipherSuite(string Name, int KeyLength, HashAlgorithmName Hash, int HashLength, bool IsChaCha)
{
    public static readonly RecordCipherSuite Aes128GcmSha256 = new("TLS_AES_128_GCM_SHA256", 16, HashAlgorithmName.SHA256, 32, false);
    public static readonly RecordCipherSuite Aes256GcmSha384 = new("TLS_AES_256_GCM_SHA384", 32, HashAlgorithmName.SHA384, 48, false);
    public static readonly RecordCipherSuite ChaCha20Poly1305Sha256 = new("TLS_CHACHA20_POLY1305_SHA256", 32, HashAlgorithmName.SHA256, 32,
        true);

    public static RecordCipherSuite FromCode(int code) => code switch
    {
        0x1301 => Aes128GcmSha256,
        0x1302 => Aes256GcmSha384,
        0x1303 => ChaCha20Poly1305Sha256,
        _ => throw new HandshakeFailedException(HandshakeFailureReason.DowngradeAttempt,
            $"The peer negotiated cipher suite 0x{code:X4}, which SecureMigration does not accept. Only TLS 1.3 AES-GCM and " +
                $"ChaCha20-Poly1305 are allowed."),
    };
}
