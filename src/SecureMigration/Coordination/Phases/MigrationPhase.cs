namespace SecureMigration.Coordination.Phases;

/// <summary>
/// The checkpoints of one migration on one host. A source goes Admitted → Snapshotted → PreHooksDone →
/// ChannelOpen → Transferring → SwitchingOver → Committed → Cleaned → Completed; a destination goes ChannelOpen →
/// Admitted → PreHooksDone → Transferring → SwitchingOver → Committed → Cleaned → Completed. Before Committed, either
/// may leave for RollingBack → RolledBack. <see cref="MigrationStateMachine"/> holds the rules.
/// </summary>
public enum MigrationPhase
{
    /// <summary>Admission let the migration start.</summary>
    Admitted,

    /// <summary>The source took a snapshot of the VM image, kept until the migration ends.</summary>
    Snapshotted,

    /// <summary>Every pre-migration hook on this host agreed.</summary>
    PreHooksDone,

    /// <summary>The mutually authenticated channel to the peer is open.</summary>
    ChannelOpen,

    /// <summary>The hypervisor's migration stream is flowing through the channel.</summary>
    Transferring,

    /// <summary>The source is paused and the stream is complete; the digest and post-hooks are being checked.</summary>
    SwitchingOver,

    /// <summary>The ownership epoch moved to the destination: the point of no return.</summary>
    Committed,

    /// <summary>The residue (the source's old copy and snapshot) was handed to the residue handler.</summary>
    Cleaned,

    /// <summary>The migration ended with the VM on the destination.</summary>
    Completed,

    /// <summary>The migration is being undone: the source resumes, the destination's partial copy is destroyed.</summary>
    RollingBack,

    /// <summary>The migration ended with the VM on the source.</summary>
    RolledBack,
}
