namespace SecureMigration.Coordination.Residues;

/// <summary>What a leftover copy of VM data is.</summary>
public enum ResidueKind
{
    /// <summary>The source's old image, after the VM committed to the destination.</summary>
    SourceImage,

    /// <summary>The snapshot the source took before the transfer.</summary>
    Snapshot,

    /// <summary>The destination's partial image, after a rollback.</summary>
    PartialImage,
}
