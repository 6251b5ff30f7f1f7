namespace SecureMigration.Cli.Control;

/// <summary>The agent's health, as <c>GET /v1/health</c> reports it.</summary>
/// <param name="Status">"ok" while the agent serves.</param>
/// <param name="Host">The host's identity.</param>
/// <param name="Listening">Where migrations arrive.</param>
/// <param name="MigrationsInFlight">How many migrations run now.</param>
/// <param name="Version">The agent's version.</param>
internal sealed record AgentHealth(string Status, string Host, string? Listening, int MigrationsInFlight, string Version);
