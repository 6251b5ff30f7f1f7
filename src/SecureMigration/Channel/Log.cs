using Microsoft.Extensions.Logging;

namespace SecureMigration.Channel;

/// <summary>The secure channel's log events (event ids 1000–1099, listed in docs/telemetry.md).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Secure channel established as {Role} with peer '{Peer}' " +
        "using {CipherSuite} for migration {MigrationId} of VM '{VmId}'.")]
    public static partial void HandshakeCompleted(ILogger logger, string role, string peer, string cipherSuite, Guid migrationId,
        string vmId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Secure channel handshake as {Role} with {Remote} refused: " +
        "{Reason}. {Detail}")]
    public static partial void HandshakeFailed(ILogger logger, string role, string remote, HandshakeFailureReason reason, string detail);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Established secure channel with peer '{Peer}' failed: {Reason}. " +
        "{Detail}")]
    public static partial void ChannelFailed(ILogger logger, string peer, ChannelFailureReason reason, string detail);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "Handshake from {Remote} refused before it started: {Reason} ({Active} in progress, {FromSource} from {Source}).")]
    public static partial void HandshakeLimited(ILogger logger, string remote, Limits.HandshakeRefusal reason, int active, int fromSource,
        string source);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning,
        Message = "Connection from {Remote} closed: it sent nothing within {Timeout}.")]
    public static partial void FirstByteTimedOut(ILogger logger, string remote, TimeSpan timeout);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug,
        Message = "Secure channel as {Role} with peer '{Peer}' closed by the peer before a ticket: it was opened ahead and not needed.")]
    public static partial void ChannelNotUsed(ILogger logger, string role, string peer);
}
