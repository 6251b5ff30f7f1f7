namespace SecureMigration.Identity;

/// <summary>
/// Why a peer's certificate chain or name was refused: the certificate reasons of
/// <c>Channel.HandshakeFailureReason</c>, which the channel maps them onto (and documents).
/// </summary>
internal enum CertificateRefusal
{
    UntrustedChain,
    Expired,
    NotYetValid,
    NameMismatch,
    NotAllowed,
    PinMismatch,
    KeyUsage,
    WeakAlgorithm,
    UnsupportedExtension,
    Revoked,
    RevocationUnknown,
}
