namespace SecureMigration.Channel;

/// <summary>
/// The destination ended the channel cleanly (TLS close_notify) without answering the ticket: it closed it unread (the channel
/// waited too long, its place was taken back, or the destination reloaded its credentials since the handshake; ADR 0030). The
/// ticket's nonce was not spent, so the source may send the same ticket on a new connection.
/// </summary>
internal sealed class TicketNotReadException() : EndOfStreamException("The destination closed the channel without reading the " +
    "ticket; it can be sent on a new connection.");
