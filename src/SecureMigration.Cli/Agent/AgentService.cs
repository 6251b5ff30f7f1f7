using Microsoft.Extensions.Hosting;

namespace SecureMigration.Cli.Agent;

/// <summary>The agent's migration loop as a service of its Generic Host: it runs until the host stops (then migrations in flight
/// roll back) or the listener closes.</summary>
/// <param name="run">The loop; it ends when its token is cancelled.</param>
internal sealed class AgentService(Func<CancellationToken, Task> run) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => run(stoppingToken);
}
