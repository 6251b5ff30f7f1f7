namespace SecureMigration.Channel.Records;

/// <summary>The failure every breach of the TLS 1.3 record protocol after the handshake turns into.</summary>
internal static class RecordProtocol
{
    public static SecureChannelException Violation(string what) =>
        new(ChannelFailureReason.ProtocolViolation, $"The peer broke the TLS 1.3 record protocol: {what}. The channel was closed.");
}
