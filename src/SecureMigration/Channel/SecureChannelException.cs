namespace SecureMigration.Channel;

/// <summary>An established secure channel failed; data after the failure point was not delivered.</summary>
public sealed class SecureChannelException : MigrationException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="reason">The machine-readable reason.</param>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public SecureChannelException(ChannelFailureReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Gets the machine-readable reason.</summary>
    public ChannelFailureReason Reason { get; }

    /// <summary>Gets the TLS alert the peer sent, when the failure is the peer's abort.</summary>
    internal short? PeerAlert { get; init; }
}
