namespace SecureMigration.Channel;

/// <summary>
/// The source ended an authenticated channel cleanly (TLS close_notify) before it sent a ticket: it had opened the channel ahead
/// of a migration that did not come, or that took another (ADR 0030). Not a failure of either end; the destination closes the
/// channel and logs it only at the debug level.
/// </summary>
internal sealed class ChannelNotUsedException() : EndOfStreamException("The source closed the channel without sending a ticket: it " +
    "opened it ahead of a migration and did not need it.");
