using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination.Journal;

/// <summary>One checkpoint of one migration, as the journal keeps it.</summary>
public sealed record JournalRecord
{
    /// <summary>Gets the migration the record belongs to.</summary>
    public required Guid MigrationId { get; init; }

    /// <summary>Gets the role this host plays in the migration.</summary>
    public required MigrationRole Role { get; init; }

    /// <summary>Gets the phase the migration entered.</summary>
    public required MigrationPhase Phase { get; init; }

    /// <summary>Gets the VM that moves.</summary>
    public required string VmId { get; init; }

    /// <summary>Gets the host the VM leaves.</summary>
    public required string SourceHost { get; init; }

    /// <summary>Gets the host the VM moves to.</summary>
    public required string DestinationHost { get; init; }

    /// <summary>Gets the ownership epoch the source held when the migration started; a commit moves it to this plus one.</summary>
    public required long Epoch { get; init; }

    /// <summary>
    /// Gets the registry's revision of the ownership record (<see cref="Ownership.OwnershipRecord.Revision"/>), where the registry
    /// keeps revisions: for a source, the record the migration started from, which its take-back must still find; for a
    /// destination from its commit on, the commit's revision, its fencing token. <see langword="null"/> otherwise.
    /// </summary>
    public long? RegistryRevision { get; init; }

    /// <summary>Gets when the phase was entered.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>Gets why the migration is rolling back or what else is worth keeping, if anything.</summary>
    public string? Reason { get; init; }

    /// <summary>Gets the snapshot the source took, for release when the migration ends.</summary>
    public string? Snapshot { get; init; }

    /// <summary>Gets the record's position in the journal, from 1; set by the journal.</summary>
    public long Sequence { get; init; }
}
