using Microsoft.Extensions.Hosting;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// The agent host's lifetime when <c>secmig</c> runs it: signals (Ctrl+C, SIGTERM) are the command line's, which stops the host
/// once; the Generic Host's console lifetime would handle them a second time.
/// </summary>
internal sealed class CommandLineLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
