using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using SecureMigration.Channel;
using SecureMigration.Coordination;
using SecureMigration.Cli.Agent;
using SecureMigration.Cli.Control;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Hosting;
using SecureMigration.Qemu;
using SecureMigration.Text;

namespace SecureMigration.Cli.Commands;

internal static class AgentCommand
{
    /// <summary>The fewest pool threads the agent runs with.</summary>
    private const int MinPoolThreads = 16;

    /// <summary>How often the agent looks for a served VM's QEMU that it has no monitor connection to.</summary>
    private static readonly TimeSpan MonitorLookInterval = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var listen = new Option<IPEndPoint>("--listen") { Description = "Address the sources' 'secmig migrate' connect to (port 0 picks " +
            "one and prints it).", CustomParser = EndPoints.ParseListen };
        Option<string[]> vms = VmMonitors.CreateOption(
            "A VM this agent receives, as ID=QMP: its id and the QMP monitor of the destination QEMU the operator started with " +
                "'-incoming defer -S'; repeat for several. Any other VM id is refused.");
        var limits = new HandshakeLimitOptions();
        var config = new Option<FileInfo>("--config")
        {
            Description = "An appsettings-style JSON file whose 'SecureMigration:Agent' section sets any of these options " +
                "(Listen, Vms {id: qmp}, Work, Registry, Cert, Key, Ca, AllowPeers, ...; SECMIG_SecureMigration__Agent__NAME " +
                "environment variables too); options on the command line win.",
        };
        var control = new Option<string?>("--control")
        {
            Description = $"The unix socket of the agent's control API (health, VMs, metrics, OpenAPI: docs/agent.md), which only " +
                $"root and the agent's user may use; WORK/{ControlSocket.DefaultName} by default.",
        };
        var controlListen = new Option<IPEndPoint?>("--control-listen")
        {
            Description = "Also serve the control API over TCP at this address, to orchestrators on other machines: TLS 1.3 with this " +
                "host's certificate, and a client certificate of the CA required, naming one of --control-allow.",
            CustomParser = result => EndPoints.ParseListen(result),
        };
        var controlAllow = new Option<string[]>("--control-allow")
        {
            Description = "An orchestrator allowed in over --control-listen: the name in its certificate; repeat for several. Every host " +
                "of the cluster holds a certificate of the same CA, so the list is required.",
        };
        var live = new LiveOptions();
        var command = new Command("agent", """
            Destination host: receives live migrations of the listed QEMU VMs over mutually authenticated TLS 1.3,
            under the checkpointed coordinator (admission, journal, hooks, fencing through the ownership registry).
            A VM runs here only after its ownership epoch moved here; a failed migration quits the destination
            QEMU and sanitizes what it left. Interrupted migrations are recovered when the agent starts.
            Prints 'listening ADDRESS', then per migration 'phase VM PHASE', 'progress VM BYTES MIB/S' and
            'result VM STATUS REASON'. Ctrl+C stops it; migrations in flight roll back.

            Example:
              qemu-system-x86_64 ... -incoming defer -S -qmp unix:/run/vm1.qmp,server=on,wait=off
              secmig agent --listen 0.0.0.0:4443 --vm vm1=/run/vm1.qmp --work /var/lib/secmig \
                --registry /shared/secmig/ownership --cert dst/cert.pem --key dst/key.pem --ca ca/ca.pem --allow-peer src.example
              secmig agent --config /etc/secmig/agent.json
            """)
        { listen, vms, config, control, controlListen, controlAllow };
        live.AddTo(command);
        limits.AddTo(command);

        // --config can supply these, so help must not mark them REQUIRED; a run without them is refused here instead.
        live.Work.Required = false;
        command.Validators.Add(result =>
        {
            string[] missing = [.. new (Option Option, string Key)[] { (listen, "Listen"), (vms, "Vms"), (live.Work, "Work") }
                .Where(required => result.GetResult(required.Option) is null).Select(required => $"{required.Option.Name} " +
                    $"({required.Key} in --config)")];
            if (missing.Length > 0)
            {
                result.AddError($"Missing {string.Join(", ", missing)}: give them on the command line or in the --config file.");
            }

            if (result.GetResult(controlListen) is not null && (result.GetResult(controlAllow) is null ||
                result.GetResult(live.Credentials.Certificate) is null))
            {
                result.AddError("--control-listen needs --control-allow (the orchestrators' certificate names) and certificates " +
                    "(--cert, --key, --ca): the control API over TCP is served only with mutual TLS.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<QemuVm> served = VmMonitors.Parse(parse.GetValue(vms)!);
            // Journal, registry and audit writes end in fsync, which blocks a pool thread; on a small host the pool grows by about a
            // thread a second, so a burst of API migrations kept the API waiting 100-370 ms (benchmark agent-load): start with enough.
            ThreadPool.GetMinThreads(out int workers, out int completions);
            ThreadPool.SetMinThreads(Math.Max(workers, MinPoolThreads), completions);
            using ILoggerFactory logging = live.CreateLogging(parse);
            ConsoleStyle style = ConsoleStyle.Standard;
            LiveHostSettings settings = live.Settings(parse, served,
                channel => channel.TicketValidator = new ServedVmsValidator([.. served.Select(vm => vm.Id)]), null, logging);
            SecureChannelListenerOptions limited =
                await limits.LoadAsync(parse, settings.Channel.PeerPolicy.AllowedPeers, cancellationToken);
            // The port first: a taken one ends here, before the work directory or anything in it is created.
            Socket bound = SecureChannelListener.Bind(parse.GetValue(listen)!);
            LiveHost host;
            try
            {
                host = await LiveHost.OpenAsync(settings, cancellationToken);
            }
            catch
            {
                bound.Dispose();
                throw;
            }

            await using LiveHost ownedHost = host;
            await using var listener = new SecureChannelListener(bound, host.Factory, limited, logging);
            await host.RecoverAsync(style, cancellationToken);
            string controlSocket = Path.GetFullPath(parse.GetValue(control) ??
                Path.Combine(parse.GetValue(live.Work)!, ControlSocket.DefaultName));
            await ControlSocket.PrepareAsync(controlSocket, cancellationToken);
            listener.Start();
            string[] servedIds = [.. served.Select(vm => vm.Id)];
            await using var inDoubt = new InDoubtRecovery(host.Coordinator.RecoverAsync, TimeProvider.System, style.Line);
            var state = new AgentState(host.Id, servedIds, host.Registry, host.Journal,
                new OutgoingMigrations(host, servedIds, TimeProvider.System, inDoubt.Add))
            {
                Listening = listener.LocalEndPoint.ToString(),
            };
            // Watching before the agent says it listens: a file changed after that line is seen.
            var reloader = new CredentialReloader(() => Reload(parse, live), host, style.Line);
            using var reloading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task reloads = reloader.RunAsync(reloading.Token);
            // Each served VM's monitor is kept open from here on (and opened again when its QEMU starts anew), so a migration
            // starts on a connected monitor (issue 19).
            Task keeping = host.Driver.KeepConnectedAsync(MonitorLookInterval, reloading.Token);
            using var triggers = new ReloadTriggers(reloader, WatchedFiles(parse, live, config), WatchedFolders(parse.GetValue(live.Hooks)),
                TimeProvider.System);
            style.Line($"listening {listener.LocalEndPoint} as {host.Id} for {string.Join(", ", served.Select(vm => vm.Id))}");
            MigrationAgent agent = host.CreateAgent(new MigrationAgentOptions());
            agent.MigrationEnded += (_, ended) =>
            {
                state.MigrationEnded();
                if (ended.Error is MigrationInDoubtException doubt)
                {
                    inDoubt.Add(doubt.MigrationId, doubt.VmId);
                }

                style.Line(ended switch
                {
                    { Result: { } result } => $"result {result.VmId} {result.Status} {result.Reason}".TrimEnd(),
                    { Error: MigrationInDoubtException e } => $"failed {ended.VmId} InDoubt: {UntrustedText.Bound(e.Message)} (the agent " +
                        $"recovers it once the ownership registry answers)",
                    // The journal keeps the migration's last checkpoint; the next start of the agent recovers it.
                    { Error: { } e } => $"failed {ended.VmId} {e.GetType().Name}: {UntrustedText.Bound(e.Message)} (restart the agent " +
                        $"to recover it)",
                    _ => $"result {ended.VmId}",
                });
            };
            RemoteControl? remote = parse.GetValue(controlListen) is { } remoteEndPoint
                ? new RemoteControl(remoteEndPoint, parse.GetValue(controlAllow)!, host.Factory, TimeProvider.System)
                : null;
            try
            {
                await AgentWebHost.RunAsync(controlSocket, remote, state, token => agent.RunAsync(listener, () =>
                {
                    state.MigrationStarted();
                    return new LiveMigrationDisplay(style);
                }, token), logging, line => style.Line(line), cancellationToken);
            }
            finally
            {
                // No reload once the host stops.
                triggers.Dispose();
                await reloading.CancelAsync();
                await reloads;
                await keeping;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                style.Line("secmig agent: stopping; migrations in flight roll back.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The credentials and peer policy as the agent's command line and its <c>--config</c> file give them now.</summary>
    /// <exception cref="ArgumentException">The command line, with the configuration file as it is now, does not parse.</exception>
    private static SecureChannelOptions Reload(ParseResult started, LiveOptions live)
    {
        string[] arguments = AgentConfiguration.ExpandCommandLine(Environment.GetCommandLineArgs()[1..]);
        ParseResult parse = started.RootCommandResult.Command.Parse(arguments);
        if (parse.Errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", parse.Errors.Select(error => error.Message)));
        }

        return live.Credentials.Load(parse);
    }

    /// <summary>The files whose change reloads the agent: its credentials, CRLs and configuration file.</summary>
    private static IEnumerable<string> WatchedFiles(ParseResult parse, LiveOptions live, Option<FileInfo> config)
    {
        CredentialOptions credentials = live.Credentials;
        FileInfo?[] files = [parse.GetValue(credentials.Certificate), parse.GetValue(credentials.Key), parse.GetValue(credentials.Ca),
            parse.GetValue(credentials.PskKeyring), parse.GetValue(credentials.PskFile), parse.GetValue(config),
            .. parse.GetValue(credentials.Crl) ?? []];
        return files.OfType<FileInfo>().Select(file => file.FullName);
    }

    /// <summary>The folders whose change reloads the agent: its hooks directory and each stage's folder in it.</summary>
    private static IEnumerable<string> WatchedFolders(string? hooks) => hooks is null ? []
        : [hooks, Path.Combine(hooks, "pre-migrate"), Path.Combine(hooks, "post-migrate")];
}
