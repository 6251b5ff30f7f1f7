namespace SecureMigration.Coordination.Ownership;

/// <summary>A journal's head as <see cref="FileOwnershipRegistry"/> stores it.</summary>
internal sealed record AnchoredHead(string Journal, long Sequence, string Mac);
