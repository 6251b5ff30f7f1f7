namespace SecureMigration.Coordination;

/// <summary>A host's journal head as <see cref="FileOwnershipRegistry"/> stores it.</summary>
internal sealed record AnchoredHead(string Host, long Sequence, string Mac);
