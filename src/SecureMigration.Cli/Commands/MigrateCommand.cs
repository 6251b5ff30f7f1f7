using System.CommandLine;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SecureMigration.Cli.Control;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Qemu;
using SecureMigration.Qemu.Qmp;

namespace SecureMigration.Cli.Commands;

internal static class MigrateCommand
{
    public static Command Create()
    {
        var vm = new Option<string>("--vm") { Description = "The VM's id, as the destination agent and the ownership registry know it.",
            Required = true };
        var qmp = new Option<string>("--qmp") { Description = "The QMP monitor of the VM's QEMU on this host (unix:PATH, PATH or " +
            "tcp:HOST:PORT).", Required = true };
        var to = new Option<EndPoint>("--to") { Description = "The destination's 'secmig agent' address.", Required = true,
            CustomParser = EndPoints.Parse };
        var peerName = new Option<string>("--peer-name") { Description = "The destination's identity: its certificate name (or its " +
            "--local-name with PSK).", Required = true };
        var images = new Option<string[]>("--source-image")
        {
            Description = "A file of this host's copy of the VM to sanitize once the destination committed (a local disk copy); repeat " +
                "for several. The VM's file-backed RAM is found through QMP. Never name a disk the destination shares.",
        };
        var json = new Option<bool>("--json") { Description = "Print the outcome as one JSON object on standard output (progress lines " +
            "go to standard error)." };
        var retries = new Option<int>("--retries") { Description = "How many times a failed attempt is tried again, as the admission " +
            "state's backoff, retry budget and breakers allow.", DefaultValueFactory = _ => 3 };
        retries.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 100)
            {
                result.AddError("--retries must be 0 to 100.");
            }
        });
        var agentSocket = new Option<string?>("--agent")
        {
            Description = "Ask this host's 'secmig agent' to migrate, through its control socket (docs/agent.md): the agent has the " +
                "VM's monitor, this host's state and credentials, so give only --vm, --to, --peer-name, --retries and --json. The " +
                "lines, --json and exit codes are the same.",
        };
        var live = new LiveOptions(credentialsRequired: false);
        var command = new Command("migrate", """
            Source host: live-migrates one running QEMU VM to a 'secmig agent' over mutually authenticated TLS 1.3,
            under the checkpointed coordinator. Exits 0 only when the destination committed (this host's QEMU is
            then told to quit and its RAM file sanitized); otherwise the VM runs here again and the exit code says
            why: 1 rolled back (retries exhausted or stopped by admission), 3 refused before anything moved (a
            wrong peer name, an untrusted or revoked certificate, a ticket the destination refused, a name that does not
            resolve: such failures are not retried and count toward no breaker, so the corrected command runs at once),
            4 in doubt (the commit was requested and the ownership registry cannot be reached: the VM stays paused
            until a later run recovers it). Prints 'phase VM PHASE', 'progress VM BYTES MIB/S', and at the end
            'result VM STATUS REASON' and 'qemu VM status=… total-ms=… downtime-ms=… passes=… transferred-bytes=…'.

            Example:
              secmig migrate --vm vm1 --qmp /run/vm1.qmp --to dst.example:4443 --peer-name dst.example \
                --work /var/lib/secmig --registry /shared/secmig/ownership \
                --cert src/cert.pem --key src/key.pem --ca ca/ca.pem
              secmig migrate --agent /var/lib/secmig/control.sock --vm vm1 --to dst.example:4443 --peer-name dst.example
            """)
        { vm, qmp, to, peerName, images, retries, json, agentSocket };
        live.AddTo(command);
        // --agent asks the host's agent, which has the VM's monitor, this host's state and credentials: those options are its.
        Option[] inProcess = [qmp, images, .. live.All];
        live.Work.Required = false;
        qmp.Required = false;
        command.Validators.Add(result =>
        {
            if (result.GetResult(agentSocket) is not null)
            {
                if (inProcess.FirstOrDefault(option => result.GetResult(option) is { Implicit: false }) is { } given)
                {
                    result.AddError($"{given.Name} is the agent's own with --agent: give only --vm, --to, --peer-name, --retries and " +
                        "--json.");
                }
            }
            else if (new[] { qmp, live.Work }.FirstOrDefault(option => result.GetResult(option) is null) is { } missing)
            {
                result.AddError($"Missing {missing.Name}: give it, or ask the host's agent with --agent.");
            }
            else if (!live.Credentials.Modes.Any(option => result.GetResult(option) is { Implicit: false }))
            {
                // --local-name, --allow-peer, --crl or --pin-spki alone choose no credentials: refused here, not at their loading.
                result.AddError(CredentialOptions.Needed + "; or ask the host's agent with --agent.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            bool asJson = parse.GetValue(json);
            ConsoleStyle style = asJson ? new ConsoleStyle(Console.Error, isTerminal: false, useColor: false) : ConsoleStyle.Standard;
            MigrateOutcome outcome;
            if (parse.GetValue(agentSocket) is { } socket)
            {
                outcome = await AgentClient.MigrateAsync(socket, new MigrationRequest(parse.GetValue(vm)!,
                    parse.GetResult(to)!.Tokens[0].Value, parse.GetValue(peerName)!, parse.GetValue(retries)), style, cancellationToken);
            }
            else
            {
                var qemuVm = new QemuVm(parse.GetValue(vm)!, QmpEndPoints.Parse(parse.GetValue(qmp)!));
                foreach (string image in parse.GetValue(images) ?? [])
                {
                    qemuVm.Images.Add(Path.GetFullPath(image));
                }

                using ILoggerFactory logging = live.CreateLogging(parse);
                var display = new LiveMigrationDisplay(style);
                LiveHostSettings settings = live.Settings(parse, [qemuVm], null, display, logging);
                await using LiveHost host = await LiveHost.OpenAsync(settings, cancellationToken);
                await host.RecoverAsync(style, cancellationToken);
                string work = Path.GetFullPath(parse.GetValue(live.Work)!);
                outcome = await SourceRun.RunAsync(host, qemuVm.Id, parse.GetValue(to)!, parse.GetValue(peerName)!, parse.GetValue(retries),
                    line => style.Line(line), display, warm: null, $"once the registry '{settings.Registry}' is reachable again, the next " +
                        $"'secmig migrate' or 'secmig recover --work {work} --vm {qemuVm.Id}=QMP --registry ...' asks it and finishes " +
                        "the migration", cancellationToken);
            }

            if (asJson)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(outcome, CliJson.Options));
            }

            return outcome.ExitCode;
        });
        return command;
    }
}
