namespace SecureMigration.Coordination.Ownership;

/// <summary>The result of a compare-and-swap on an ownership record.</summary>
/// <param name="Moved">Whether the epoch moved; otherwise someone else moved it first (or the VM is unknown).</param>
/// <param name="Current">The record after the attempt (the new one, or the one that won), or <see langword="null"/> for an unknown
/// VM.</param>
public readonly record struct OwnershipMove(bool Moved, OwnershipRecord? Current);
