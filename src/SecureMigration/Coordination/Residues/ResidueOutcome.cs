namespace SecureMigration.Coordination.Residues;

/// <summary>What a residue handler did with a residue.</summary>
/// <param name="Action">What was done: <c>deleted</c>, <c>sanitized</c>, <c>already-gone</c>.</param>
/// <param name="Bytes">How many bytes it held.</param>
/// <param name="Detail">More, for the audit log (a certificate's location, say).</param>
public sealed record ResidueOutcome(string Action, long Bytes, string? Detail = null);
