namespace SecureMigration.Identity;

/// <summary>Why a peer's certificate chain or name was refused; the channel maps it onto its handshake failure reasons.</summary>
internal enum CertificateRefusal
{
    /// <summary>The chain does not lead to a trusted CA.</summary>
    UntrustedChain,

    /// <summary>A certificate has expired.</summary>
    Expired,

    /// <summary>A certificate is not valid yet.</summary>
    NotYetValid,

    /// <summary>The certificate does not carry the expected name.</summary>
    NameMismatch,

    /// <summary>The certificate's names are not on the allow-list.</summary>
    NotAllowed,

    /// <summary>The public key matches none of the pins.</summary>
    PinMismatch,

    /// <summary>Key usage, extended key usage or basic constraints forbid this use.</summary>
    KeyUsage,

    /// <summary>A weak signature algorithm or key.</summary>
    WeakAlgorithm,

    /// <summary>A critical extension this end cannot process, or name constraints.</summary>
    UnsupportedExtension,

    /// <summary>A certificate is listed in its issuer's revocation list.</summary>
    Revoked,

    /// <summary>Revocation lists are configured but a certificate's status cannot be established.</summary>
    RevocationUnknown,
}
