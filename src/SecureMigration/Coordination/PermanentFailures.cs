using System.Net.Sockets;
using Org.BouncyCastle.Tls;
using SecureMigration.Channel;

namespace SecureMigration.Coordination;

/// <summary>
/// Failures no retry can heal: who the peer is or whether it accepts this host (identity, authorization, revocation),
/// the destination's refusal of the ticket, and a destination name that does not resolve. A migration that ends on one
/// is not retried, and admission counts it toward no breaker or backoff, so the corrected command can run at once.
/// </summary>
internal static class PermanentFailures
{
    public static bool IsPermanent(Exception failure) => failure switch
    {
        HandshakeFailedException handshake => handshake.Reason is HandshakeFailureReason.UntrustedChain or HandshakeFailureReason.Expired
            or HandshakeFailureReason.NotYetValid or HandshakeFailureReason.NameMismatch or HandshakeFailureReason.NotAllowed
            or HandshakeFailureReason.PinMismatch or HandshakeFailureReason.KeyUsage or HandshakeFailureReason.PskMismatch
            or HandshakeFailureReason.TicketRefused or HandshakeFailureReason.WeakAlgorithm or HandshakeFailureReason.UnsupportedExtension
            or HandshakeFailureReason.Revoked or HandshakeFailureReason.RevocationUnknown
            || (handshake.Reason == HandshakeFailureReason.RefusedByPeer && handshake.PeerAlert is { } alert && RefusesIdentity(alert)),
        DestinationUnreachableException unreachable => unreachable.SocketError is SocketError.HostNotFound or SocketError.NoData,
        SocketException socket => socket.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData,
        _ => false,
    };

    /// <summary>Whether a peer's alert refuses this host's identity (RFC 8446 §6.2), not a passing trouble of the peer's.</summary>
    private static bool RefusesIdentity(short alert) => alert is AlertDescription.bad_certificate or
        AlertDescription.unsupported_certificate
        or AlertDescription.certificate_revoked or AlertDescription.certificate_expired or AlertDescription.certificate_unknown
        or AlertDescription.unknown_ca or AlertDescription.access_denied or AlertDescription.certificate_required;
}
