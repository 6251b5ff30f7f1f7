using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SecureMigration.Cli.Agent;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Text;

namespace SecureMigration.Cli.Control;

/// <summary>The routes of the agent's control API (docs/agent.md): health, the VMs it serves, migrations (start, follow,
/// cancel), Prometheus metrics and the OpenAPI document.</summary>
internal static class ControlEndpoints
{
    /// <summary>The longest a follower's request waits for the next line, in seconds.</summary>
    public const double MaxWait = 30;

    public static void Map(WebApplication app, AgentState state)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1");
        v1.MapGet("/health", () => new AgentHealth("ok", state.HostId, state.Listening, state.InFlight,
                typeof(ControlEndpoints).Assembly.GetName().Version?.ToString() ?? "unknown"))
            .WithName("GetHealth").WithSummary("Whether the agent serves, where it listens, and how many migrations run.");
        v1.MapGet("/vms", (CancellationToken cancellationToken) => ListVmsAsync(state, cancellationToken))
            .WithName("ListVms").WithSummary("The VMs this agent serves, with their owner and epoch in the registry and the phase of " +
                "their latest migration here.");
        v1.MapPost("/migrations", (MigrationRequest request) => state.Outgoing.Start(request) switch
            {
                (OutgoingMigration started, _, _) => Results.Accepted($"/v1/migrations/{started.Id}", started.Summary()),
                (_, string invalid, _) => Results.Problem(invalid, statusCode: StatusCodes.Status400BadRequest),
                (_, _, string conflict) => Results.Problem(conflict, statusCode: StatusCodes.Status409Conflict),
                _ => Results.StatusCode(StatusCodes.Status500InternalServerError),
            })
            .WithName("StartMigration").WithSummary("Migrates a VM this agent serves to another agent, as 'secmig migrate' would.");
        v1.MapGet("/migrations", () => state.Outgoing.List().Select(m => m.ListItem()))
            .WithName("ListMigrations").WithSummary("The migrations asked of this agent (the last 256): VM, destination, status and " +
                "times; each one's lines and outcome are at /v1/migrations/{id}.");
        v1.MapGet("/migrations/{id:guid}", async (Guid id, int? after, double? wait, CancellationToken cancellationToken) =>
                state.Outgoing.Find(id) is { } migration
                    ? Results.Ok(await migration.ViewAsync(Math.Max(0, after ?? 0),
                        TimeSpan.FromSeconds(wait is { } seconds && double.IsFinite(seconds) ? Math.Clamp(seconds, 0, MaxWait) : 0),
                        cancellationToken).ConfigureAwait(false))
                    : Results.NotFound())
            .WithName("FollowMigration").WithSummary("A migration's lines after number 'after' (waiting up to 'wait' seconds, at " +
                "most 30, for the next), its status and, once it ended, its outcome and exit code.");
        v1.MapDelete("/migrations/{id:guid}", (Guid id) =>
            {
                if (state.Outgoing.Find(id) is not { } migration)
                {
                    return Results.NotFound();
                }

                migration.Cancel();
                return Results.Accepted($"/v1/migrations/{id}", migration.Summary());
            })
            .WithName("CancelMigration").WithSummary("Cancels a migration: it rolls back unless it already committed.");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi("/openapi/{documentName}.json");
    }

    private static async Task<IReadOnlyList<VmView>> ListVmsAsync(AgentState state, CancellationToken cancellationToken)
    {
        IReadOnlyList<JournalRecord> latest = state.Journal.LatestRecords;
        var views = new List<VmView>(state.ServedVms.Count);
        foreach (string vm in state.ServedVms)
        {
            JournalRecord? migration = latest.LastOrDefault(r => string.Equals(r.VmId, vm, StringComparison.Ordinal));
            OwnershipRecord? owner = null;
            string? error = null;
            try
            {
                owner = await state.Registry.GetAsync(vm, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
            {
                error = UntrustedText.Bound(e.Message, 300);
            }

            views.Add(new VmView(vm, owner is null ? null : UntrustedText.Bound(owner.Owner, 253), owner?.Epoch,
                migration?.Phase.ToString(), migration?.MigrationId, error));
        }

        return views;
    }
}
