namespace SecureMigration.Audit;

/// <summary>What checking an audit log found.</summary>
/// <param name="IsIntact">Whether every line is present, unedited and in order (a torn last line, from a crash, is allowed and
/// reported).</param>
/// <param name="Entries">The entries that verified, in order, up to the first problem.</param>
/// <param name="Problem">The first problem, with its line number, or <see langword="null"/>.</param>
/// <param name="TornTail">Whether the last line was cut short by a crash (it is not counted).</param>
public sealed record AuditVerification(bool IsIntact, IReadOnlyList<AuditEntry> Entries, string? Problem, bool TornTail);
