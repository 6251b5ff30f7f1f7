namespace SecureMigration.Cli.Control;

/// <summary>One VM the agent serves, as <c>GET /v1/vms</c> lists it.</summary>
/// <param name="Id">The VM.</param>
/// <param name="Owner">The host that holds its ownership epoch, per the registry, or <see langword="null"/> when the registry
/// does not know it or cannot be read.</param>
/// <param name="Epoch">That epoch.</param>
/// <param name="Phase">The phase of its latest migration on this host, or <see langword="null"/>.</param>
/// <param name="MigrationId">That migration.</param>
/// <param name="Error">Why the registry could not be read, or <see langword="null"/>.</param>
internal sealed record VmView(string Id, string? Owner, long? Epoch, string? Phase, Guid? MigrationId, string? Error);
