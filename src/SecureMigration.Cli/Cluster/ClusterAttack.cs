namespace SecureMigration.Cli.Cluster;

/// <summary>What the attacker does to one migration of the simulated cluster.</summary>
internal enum ClusterAttack
{
    /// <summary>Nothing.</summary>
    None,

    /// <summary>Resets the connection halfway through the stream.</summary>
    CutMidTransfer,

    /// <summary>Resets the connection right after the destination took the epoch, so its acknowledgement never arrives.</summary>
    DropFinalAcknowledgement,
}
