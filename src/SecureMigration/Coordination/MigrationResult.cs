using SecureMigration.Admission;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination;

/// <summary>How one migration ended on this host.</summary>
/// <param name="MigrationId">The migration.</param>
/// <param name="VmId">The VM.</param>
/// <param name="Role">This host's role.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Reason">Why it rolled back or was refused, or <see langword="null"/>.</param>
/// <param name="Bytes">The bytes of the migration stream that moved.</param>
/// <param name="Epoch">The VM's ownership epoch at the end, when known.</param>
public sealed record MigrationResult(Guid MigrationId, string VmId, MigrationRole Role, MigrationStatus Status, string? Reason, long Bytes,
    long Epoch)
{
    /// <summary>Gets why admission denied the migration (<see cref="AdmissionDenialReason.None"/> when it did not), so a caller can back
    /// off or stop retrying.</summary>
    public AdmissionDenialReason Denial { get; init; }

    /// <summary>Gets, when admission denied the migration, how long until asking again may succeed.</summary>
    public TimeSpan RetryAfter { get; init; }

    /// <summary>
    /// Gets whether the migration failed for a reason no retry can heal: the peer's identity or its refusal of this host,
    /// the destination's refusal of the ticket, a name that does not resolve. Fix the cause (the reason says which);
    /// admission counted it toward no breaker or backoff, so the corrected call can run at once.
    /// </summary>
    public bool IsPermanent { get; init; }

    /// <summary>Gets whether the VM now runs on the destination.</summary>
    public bool IsCommitted => Status == MigrationStatus.Completed;
}
