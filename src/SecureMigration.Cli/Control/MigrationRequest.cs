namespace SecureMigration.Cli.Control;

/// <summary>A request to migrate a VM this agent serves, as <c>POST /v1/migrations</c> takes it.</summary>
/// <param name="Vm">The VM (one of the agent's <c>--vm</c>).</param>
/// <param name="To">The destination agent's address, <c>ADDRESS:PORT</c>.</param>
/// <param name="PeerName">The destination's identity (its certificate name, or its <c>--local-name</c> with PSK).</param>
/// <param name="Retries">How many times a failed attempt is tried again (0 to 100).</param>
internal sealed record MigrationRequest(string Vm, string To, string PeerName, int Retries = 3);
