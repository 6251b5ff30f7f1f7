namespace SecureMigration.Audit;

/// <summary>One line of the audit log: something that happened to a migration, chained to the line before.</summary>
/// <param name="Sequence">The entry's position, from 1.</param>
/// <param name="At">When it happened.</param>
/// <param name="Host">The host that wrote it.</param>
/// <param name="MigrationId">The migration, if the event belongs to one.</param>
/// <param name="VmId">The VM, if any.</param>
/// <param name="Event">What happened (a phase name such as <c>Committed</c>, or an event such as <c>residue-deleted</c>).</param>
/// <param name="Detail">More about it, if anything.</param>
/// <param name="Previous">The SHA-256 (hex) of the previous line, or 64 zeros for the first.</param>
public sealed record AuditEntry(long Sequence, DateTimeOffset At, string Host, Guid? MigrationId, string? VmId, string Event,
    string? Detail, string Previous);
