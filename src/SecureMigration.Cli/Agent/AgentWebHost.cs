using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using SecureMigration.Cli.Control;
using SecureMigration.Storage;
using SecureMigration.Telemetry;
using SecureMigration.Tunnel;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// The agent's Generic Host (ADR 0019): its migration loop as a hosted service and its control API on Kestrel, bound to a
/// unix socket that only root and the agent's user may use (the socket's mode, and the kernel's word on each peer).
/// Nothing is read from the working directory (no appsettings.json of the host builder's defaults): the agent's
/// configuration is its command line and <c>--config</c>.
/// </summary>
internal static class AgentWebHost
{
    /// <summary>The largest request the control API reads.</summary>
    public const long MaxRequestBytes = 64 * 1024;

    private static WebApplication Build(string controlSocket, RemoteControl? remote, AgentState state, Func<CancellationToken, Task> loop,
        ILoggerFactory logging)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "secmig" });
        builder.Services.AddSingleton<IHostLifetime, CommandLineLifetime>();
        builder.Services.AddSingleton(logging);
        builder.Services.AddRoutingCore();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new() { Title = "secmig agent control API", Version = "v1",
                Description = "The local control API of a SecureMigration agent (docs/agent.md)." };
            return Task.CompletedTask;
        }));
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(SecureMigrationTelemetry.Name).AddPrometheusExporter());
        builder.Services.AddHostedService(_ => new AgentService(loop));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.ListenUnixSocket(controlSocket, listen => listen.Use(next => connection => Admit(connection, next, logging)));
            if (remote is not null)
            {
                kestrel.Listen(remote.EndPoint, listen => remote.Configure(listen, logging.CreateLogger("SecureMigration.Cli.Control")));
            }
        });
        WebApplication app = builder.Build();
        ControlEndpoints.Map(app, state);
        return app;
    }

    /// <summary>
    /// Runs the agent: starts its host (the loop and the control API), tells systemd it is ready and keeps its watchdog fed,
    /// and stops the host when <paramref name="cancellationToken"/> is cancelled or the loop ends; a loop that failed throws
    /// its exception here.
    /// </summary>
    /// <param name="controlSocket">The control socket's path, prepared (<see cref="ControlSocket.PrepareAsync"/>).</param>
    /// <param name="remote">The control API over TCP with mutual TLS, or <see langword="null"/>.</param>
    /// <param name="state">What the control API reports.</param>
    /// <param name="loop">The migration loop.</param>
    /// <param name="logging">The agent's logging.</param>
    /// <param name="say">Writes a line for the operator.</param>
    /// <param name="cancellationToken">Stops the agent (Ctrl+C, SIGTERM).</param>
    /// <returns>A task that completes when the agent has stopped.</returns>
    public static async Task RunAsync(string controlSocket, RemoteControl? remote, AgentState state, Func<CancellationToken, Task> loop,
        ILoggerFactory logging, Action<string> say, CancellationToken cancellationToken)
    {
        await using WebApplication app = Build(controlSocket, remote, state, loop, logging);
        var systemd = new SystemdNotifications();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ControlSocket.Restrict(controlSocket);
            await ControlWarmUp.RunAsync(controlSocket, logging.CreateLogger("SecureMigration.Cli.Control"), TimeProvider.System,
                cancellationToken).ConfigureAwait(false);
            Task running = app.Services.GetServices<IHostedService>().OfType<AgentService>().Single().ExecuteTask ?? Task.CompletedTask;
            if (!cancellationToken.IsCancellationRequested) // a stop during the warm-up goes straight to the orderly stop below
            {
                say($"control {controlSocket}");
                if (remote is not null)
                {
                    say($"control https://{remote.Bound} for {string.Join(", ", remote.Allowed)}");
                }

                systemd.Ready($"listening {state.Listening} as {state.HostId}");
            }

            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task watchdog = systemd.KeepAliveAsync(running, TimeProvider.System, stopping.Token);
            try
            {
                await running.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested || running.IsCompleted)
            {
                // Stopped, or the loop ended (a failure is thrown below, once the API's migrations and the host have stopped).
            }

            await stopping.CancelAsync().ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
            systemd.Stopping();
            await state.Outgoing.StopAsync().ConfigureAwait(false);
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The loop ended by the stop.
            }
        }
        finally
        {
            if (Posix.Stat(controlSocket) is { IsSocket: true })
            {
                File.Delete(controlSocket); // only the socket: whatever else someone put there stays
            }
        }
    }

    /// <summary>Lets a peer in only if the kernel says it is root or the agent's user (<c>SO_PEERCRED</c>); anyone else is closed
    /// on before a byte is read, at the cost of one log line.</summary>
    private static Task Admit(ConnectionContext connection, ConnectionDelegate next, ILoggerFactory logging)
    {
        int? uid = connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket ? LocalPeerCredentials.TryGetUid(socket)
            : null;
        if (uid == 0 || (uid is { } user && (uint)user == Posix.EffectiveUserId()))
        {
            return next(connection);
        }

        logging.CreateLogger("SecureMigration.Cli.Control").LogWarning("Control connection refused: {Peer} is neither root nor the " +
            "agent's user.", uid is { } known ? $"local user {known}" : "a peer the kernel did not name");
        connection.Abort();
        return Task.CompletedTask;
    }
}
