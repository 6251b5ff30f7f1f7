namespace SecureMigration.Channel.Tickets;

/// <summary>A ticket validator's verdict: accepted, refused with a reason for people, or deferred because this end is busy.</summary>
public readonly record struct TicketDecision
{
    private TicketDecision(string? refusalReason, bool isBusy)
    {
        RefusalReason = refusalReason;
        IsBusy = isBusy;
    }

    /// <summary>Gets an accepting decision.</summary>
    public static TicketDecision Accept => default;

    /// <summary>Gets whether the ticket was accepted.</summary>
    public bool IsAccepted => RefusalReason is null;

    /// <summary>Gets why the ticket was refused, or <see langword="null"/> when it was accepted.</summary>
    public string? RefusalReason { get; }

    /// <summary>Gets whether the ticket was refused only for now: this end is busy with the VM, and the source may present a
    /// new ticket later (it is sent as <see cref="TicketRefusal.Busy"/>, which the source retries within its budget).</summary>
    public bool IsBusy { get; }

    /// <summary>Creates a refusing decision.</summary>
    /// <param name="reason">Why, as a sentence for people.</param>
    /// <returns>The decision.</returns>
    public static TicketDecision Refuse(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new TicketDecision(reason, isBusy: false);
    }

    /// <summary>Creates a decision that refuses the ticket for now because this end is busy with its VM.</summary>
    /// <param name="reason">Why, as a sentence for people.</param>
    /// <returns>The decision.</returns>
    public static TicketDecision Busy(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return new TicketDecision(reason, isBusy: true);
    }
}
