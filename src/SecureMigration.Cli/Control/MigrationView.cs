using SecureMigration.Cli.Live;

namespace SecureMigration.Cli.Control;

/// <summary>A migration the agent runs for its control API, as <c>GET /v1/migrations/{id}</c> returns it.</summary>
/// <param name="Id">The request's id.</param>
/// <param name="Request">What was asked.</param>
/// <param name="RequestedAt">When.</param>
/// <param name="Status">"Queued" while it waits for a slot, "Running", then the outcome's status.</param>
/// <param name="Lines">The lines 'secmig migrate' would have printed, from number <paramref name="First"/> on.</param>
/// <param name="First">The number of the first of <paramref name="Lines"/>.</param>
/// <param name="Next">The number to ask for next (<c>?after=</c>).</param>
/// <param name="Outcome">How it ended, once it has.</param>
/// <param name="StartedAt">When it left the queue, once it has.</param>
/// <param name="EndedAt">When it ended, once it has.</param>
internal sealed record MigrationView(Guid Id, MigrationRequest Request, DateTimeOffset RequestedAt, string Status,
    IReadOnlyList<string> Lines, int First, int Next, MigrateOutcome? Outcome, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt);
