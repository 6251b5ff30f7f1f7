using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Hosting;
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
        var live = new LiveOptions();
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
            """)
        { vm, qmp, to, peerName, images, retries, json };
        live.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var qemuVm = new QemuVm(parse.GetValue(vm)!, QmpEndPoints.Parse(parse.GetValue(qmp)!));
            foreach (string image in parse.GetValue(images) ?? [])
            {
                qemuVm.Images.Add(Path.GetFullPath(image));
            }

            using ILoggerFactory logging = live.CreateLogging(parse);
            bool asJson = parse.GetValue(json);
            ConsoleStyle style = asJson ? new ConsoleStyle(Console.Error, isTerminal: false, useColor: false) : ConsoleStyle.Standard;
            var display = new LiveMigrationDisplay(style);
            LiveHostSettings settings = live.Settings(parse, [qemuVm], null, display, logging);
            await using LiveHost host = await LiveHost.OpenAsync(settings, cancellationToken);
            await host.RecoverAsync(style, cancellationToken);
            await host.Registry.RegisterAsync(qemuVm.Id, host.Id, cancellationToken);
            try
            {
                MigrationAgent agent = host.CreateAgent(new MigrationAgentOptions { MaxRetries = parse.GetValue(retries) });
                agent.Retrying += (_, retry) => style.Line(retry.IsBackoff
                    ? $"backoff {retry.VmId} {retry.Wait.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} {retry.Reason}"
                    : $"retry {retry.VmId} {retry.Attempt}/{retry.MaxRetries} after: {retry.Reason}");
                EndPoint destination = parse.GetValue(to)!;
                (MigrationResult result, int retried) = await agent.MigrateAsync(qemuVm.Id, parse.GetValue(peerName)!,
                    async (ticket, token) => await host.Factory.ConnectAsync(destination, ticket, token), display, cancellationToken);
                style.Line($"result {result.VmId} {result.Status} {result.Reason}".TrimEnd());
                QemuMigrationInfo? qemu = host.Driver.LastOutgoingMigration(qemuVm.Id);
                if (qemu is not null)
                {
                    style.Line(string.Create(CultureInfo.InvariantCulture,
                        $"qemu {qemuVm.Id} status={qemu.Status} total-ms={qemu.TotalTime?.TotalMilliseconds ?? -1:0} " +
                            $"downtime-ms={qemu.Downtime?.TotalMilliseconds ?? -1:0} passes={qemu.Passes} " +
                                $"transferred-bytes={qemu.TransferredBytes}"));
                }

                int exitCode = result.Status switch
                {
                    MigrationStatus.Completed => ExitCodes.Success,
                    _ when cancellationToken.IsCancellationRequested => ExitCodes.Interrupted,
                    MigrationStatus.Refused when retried == 0 => ExitCodes.Refused,
                    _ when result.IsPermanent => ExitCodes.Refused,
                    _ => ExitCodes.Failure,
                };
                if (asJson)
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(new MigrateOutcome(result.VmId, result.MigrationId,
                        result.Status.ToString(), result.Reason, result.Bytes, retried, exitCode, qemu), CliJson.Options));
                }

                return exitCode;
            }
            catch (MigrationInDoubtException e)
            {
                string work = Path.GetFullPath(parse.GetValue(live.Work)!);
                style.Line($"result {qemuVm.Id} InDoubt {e.Message}. The VM stays paused here and nothing is destroyed: once the " +
                    $"registry " +
                    $"'{settings.Registry}' is reachable again, the next 'secmig migrate' or 'secmig recover --work {work} --vm " +
                        $"{qemuVm.Id}=QMP --registry ...' " +
                    "asks it and finishes the migration");
                if (asJson)
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(new MigrateOutcome(qemuVm.Id, e.MigrationId, "InDoubt", e.Message, 0, 0,
                        ExitCodes.InDoubt, null), CliJson.Options));
                }

                return ExitCodes.InDoubt;
            }
        });
        return command;
    }

    private sealed record MigrateOutcome(string VmId, Guid MigrationId, string Status, string? Reason, long Bytes, int Retries,
        int ExitCode, QemuMigrationInfo? Qemu);
}
