namespace SecureMigration.Cli.Control;

/// <summary>
/// A migration as <c>GET /v1/migrations</c> lists it: what and where, its status and when, without its request's other fields,
/// its lines or its outcome's reason (<c>GET /v1/migrations/{id}</c> has them). The list holds up to 256 of these, so each stays
/// small enough that the whole list leaves in one write while the agent is busy (docs/benchmarks.md, the 200-request burst).
/// </summary>
/// <param name="Id">The request's id.</param>
/// <param name="Vm">The VM.</param>
/// <param name="To">The destination agent's address.</param>
/// <param name="Status">"Queued" while it waits for a slot, "Running", then the outcome's status.</param>
/// <param name="RequestedAt">When it was asked.</param>
/// <param name="StartedAt">When it left the queue, once it has.</param>
/// <param name="EndedAt">When it ended, once it has.</param>
/// <param name="ExitCode">The exit code 'secmig migrate' would have ended with, once it ended.</param>
/// <param name="Next">The number of lines it printed so far (<c>?after=</c> of the next to ask for).</param>
internal sealed record MigrationListItem(Guid Id, string Vm, string To, string Status, DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, int? ExitCode, int Next);
