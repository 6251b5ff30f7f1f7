namespace SecureMigration.Coordination.Protocol;

/// <summary>The migration stopped before its commit: the peer aborted, the stream was cut, stalled or damaged, or it broke the
/// protocol.</summary>
public sealed class MigrationAbortedException : MigrationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the migration stopped.</param>
    /// <param name="byPeer">Whether the peer said so.</param>
    /// <param name="innerException">The cause, if any.</param>
    public MigrationAbortedException(string reason, bool byPeer, Exception? innerException = null)
        : base((byPeer ? "The peer aborted the migration: " : "The migration stopped: ") + reason, innerException)
    {
        Reason = reason;
        ByPeer = byPeer;
    }

    /// <summary>Gets why the migration stopped.</summary>
    public string Reason { get; }

    /// <summary>Gets whether the peer aborted it.</summary>
    public bool ByPeer { get; }
}
