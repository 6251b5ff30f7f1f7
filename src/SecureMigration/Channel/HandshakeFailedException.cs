namespace SecureMigration.Channel;

/// <summary>The secure channel could not be established; no application data was exchanged.</summary>
public sealed class HandshakeFailedException : MigrationException
{
    /// <summary>Initializes the exception.</summary>
    /// <param name="reason">The machine-readable reason.</param>
    /// <param name="message">What was wrong and what to do.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public HandshakeFailedException(HandshakeFailureReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Gets the machine-readable reason.</summary>
    public HandshakeFailureReason Reason { get; }

    /// <summary>Gets the TLS alert the peer sent, when the failure is the peer's refusal.</summary>
    internal short? PeerAlert { get; init; }

    /// <summary>Gets whether the destination closed the channel with the ticket unread (<see cref="TicketNotReadException"/>): the
    /// same ticket may be sent on a new connection.</summary>
    internal bool TicketNotRead { get; init; }
}
