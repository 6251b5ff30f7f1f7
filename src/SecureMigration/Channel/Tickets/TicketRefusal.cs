namespace SecureMigration.Channel.Tickets;

/// <summary>Why a receiving end refused a migration ticket. Sent on the wire as one byte.</summary>
public enum TicketRefusal : byte
{
    /// <summary>The ticket was accepted.</summary>
    None = 0,

    /// <summary>The ticket names another destination host.</summary>
    WrongDestination = 1,

    /// <summary>The ticket's source is not the authenticated peer.</summary>
    WrongSource = 2,

    /// <summary>The ticket has expired.</summary>
    Expired = 3,

    /// <summary>The ticket was seen before.</summary>
    Replayed = 4,

    /// <summary>A ticket validator vetoed the migration (for example the ownership epoch is not current).</summary>
    Vetoed = 5,

    /// <summary>The ticket is not well formed.</summary>
    Malformed = 6,

    /// <summary>The ticket is not bound to this TLS session.</summary>
    BindingMismatch = 7,

    /// <summary>The ticket is valid for longer than this end accepts.</summary>
    LifetimeTooLong = 8,

    /// <summary>The receiving end is still busy with this VM (a migration of it is running or rolling back there); the
    /// ticket may be presented again later, as a retry within the source's budget.</summary>
    Busy = 9,
}
