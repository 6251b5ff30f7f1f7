namespace SecureMigration.Channel.Tickets;

/// <summary>A ticket validator's verdict: accepted, or refused with a reason for people.</summary>
public readonly record struct TicketDecision
{
    private TicketDecision(string? refusalReason) => RefusalReason = refusalReason;

    /// <summary>Gets an accepting decision.</summary>
    public static TicketDecision Accept => default;

    /// <summary>Gets whether the ticket was accepted.</summary>
    public bool IsAccepted => RefusalReason is null;

    /// <summary>Gets why the ticket was refused, or <see langword="null"/> when it was accepted.</summary>
    public string? RefusalReason { get; }

    /// <summary>Creates a refusing decision.</summary>
    /// <param name="reason">Why, as a sentence for people.</param>
    /// <returns>The decision.</returns>
    public static TicketDecision Refuse(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new TicketDecision(reason);
    }
}
