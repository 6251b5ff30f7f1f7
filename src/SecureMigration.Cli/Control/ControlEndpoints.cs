using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SecureMigration.Cli.Agent;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Text;

namespace SecureMigration.Cli.Control;

/// <summary>The routes of the agent's control API (docs/agent.md): health, the VMs it serves, Prometheus metrics and the OpenAPI
/// document.</summary>
internal static class ControlEndpoints
{
    public static void Map(WebApplication app, AgentState state)
    {
        RouteGroupBuilder v1 = app.MapGroup("/v1");
        v1.MapGet("/health", () => new AgentHealth("ok", state.HostId, state.Listening, state.InFlight,
                typeof(ControlEndpoints).Assembly.GetName().Version?.ToString() ?? "unknown"))
            .WithName("GetHealth").WithSummary("Whether the agent serves, where it listens, and how many migrations run.");
        v1.MapGet("/vms", (CancellationToken cancellationToken) => ListVmsAsync(state, cancellationToken))
            .WithName("ListVms").WithSummary("The VMs this agent serves, with their owner and epoch in the registry and the phase of " +
                "their latest migration here.");
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
