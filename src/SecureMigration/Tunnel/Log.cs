using System.Net;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel;

namespace SecureMigration.Tunnel;

/// <summary>The tunnel's log events (event ids 1100–1199, listed in docs/telemetry.md).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Tunnel {Local} -> {Remote} open with peer '{Peer}'.")]
    public static partial void TunnelOpened(ILogger logger, EndPoint? local, EndPoint? remote, string peer);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Tunnel with peer '{Peer}' ended: {Outcome}; {Sent} bytes " +
        "sent, {Received} bytes received.")]
    public static partial void TunnelClosed(ILogger logger, string peer, SpliceOutcome outcome, long sent, long received);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Tunnel connection from {Local} dropped: the secure channel to " +
        "{Remote} failed ({Reason}). {Detail}")]
    public static partial void TunnelRefused(ILogger logger, EndPoint? local, EndPoint remote, HandshakeFailureReason reason,
        string detail);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Tunnel from peer '{Peer}' dropped: cannot reach the forward " +
        "address {Forward}: {Detail}")]
    public static partial void ForwardUnreachable(ILogger logger, string peer, EndPoint forward, string detail);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Tunnel connection from {Local} refused: it comes from {Who}, " +
        "which this tunnel may not carry (allow it with --allow-user).")]
    public static partial void LocalClientRefused(ILogger logger, EndPoint? local, string who);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Tunnel connection from {Local} dropped: cannot reach {Remote} " +
        "({Detail}). Is 'secmig tunnel accept' running there, and is --connect its address?")]
    public static partial void RemoteUnreachable(ILogger logger, EndPoint? local, EndPoint remote, string detail);
}
