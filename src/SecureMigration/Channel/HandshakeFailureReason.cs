namespace SecureMigration.Channel;

/// <summary>Why a secure-channel handshake was refused.</summary>
public enum HandshakeFailureReason
{
    /// <summary>The peer's certificate does not chain to a trusted CA.</summary>
    UntrustedChain,

    /// <summary>A certificate in the peer's chain has expired.</summary>
    Expired,

    /// <summary>A certificate in the peer's chain is not valid yet.</summary>
    NotYetValid,

    /// <summary>The peer's certificate does not carry the expected name.</summary>
    NameMismatch,

    /// <summary>The peer authenticated but is not on the allow-list.</summary>
    NotAllowed,

    /// <summary>The peer's public key matches none of the pinned SPKI hashes.</summary>
    PinMismatch,

    /// <summary>A certificate's key usage, extended key usage or basic constraints forbid this use.</summary>
    KeyUsage,

    /// <summary>The peers do not share the same pre-shared key and identity.</summary>
    PskMismatch,

    /// <summary>The peer broke the TLS protocol or sent bytes that are not TLS.</summary>
    ProtocolViolation,

    /// <summary>The peer offered only a protocol version or cipher suite older than TLS 1.3.</summary>
    DowngradeAttempt,

    /// <summary>The handshake did not complete within the handshake timeout.</summary>
    Timeout,

    /// <summary>The connection ended before the handshake completed.</summary>
    Truncated,

    /// <summary>The migration ticket was refused (wrong host, expired, replayed, or vetoed by a validator).</summary>
    TicketRefused,

    /// <summary>The peer refused this end (for example it does not trust this end's certificate).</summary>
    RefusedByPeer,

    /// <summary>Too many handshakes are in progress, for this listener or for this remote address.</summary>
    TooManyHandshakes,

    /// <summary>A certificate in the peer's chain is signed with MD5 or SHA-1, or holds a key below 2048-bit RSA or a 256-bit
    /// curve.</summary>
    WeakAlgorithm,

    /// <summary>A certificate in the peer's chain carries a critical extension this end cannot process, or name constraints.</summary>
    UnsupportedExtension,

    /// <summary>A certificate in the peer's chain is listed in its issuer's certificate revocation list.</summary>
    Revoked,

    /// <summary>
    /// Revocation lists are configured but the revocation status of a certificate in the peer's chain cannot be established:
    /// no list from its issuer, or that list is expired, not yet valid, or not signed by the issuer.
    /// </summary>
    RevocationUnknown,

    /// <summary>The destination refused the ticket only for now: it is still busy with the VM (a migration of it is running or
    /// rolling back there). A retry may succeed.</summary>
    DestinationBusy,
}
