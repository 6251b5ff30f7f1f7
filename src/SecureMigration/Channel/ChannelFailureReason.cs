namespace SecureMigration.Channel;

/// <summary>Why an established secure channel failed.</summary>
public enum ChannelFailureReason
{
    /// <summary>The connection ended without a TLS close_notify: the data may be cut short.</summary>
    Truncated,

    /// <summary>A record failed authentication: a byte was altered on the way.</summary>
    RecordTampered,

    /// <summary>The peer broke the TLS protocol.</summary>
    ProtocolViolation,

    /// <summary>The peer closed the channel with a fatal alert.</summary>
    PeerAborted,
}
