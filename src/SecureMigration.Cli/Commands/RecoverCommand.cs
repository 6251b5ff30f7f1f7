using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SecureMigration.Cli.Cluster;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Cli.Commands;

internal static class RecoverCommand
{
    public static Command Create()
    {
        var live = new LiveOptions(WorkOption.ClusterOrHost, credentialsRequired: false);
        Option<string[]> vms = VmMonitors.CreateOption(
            "On a real host: a VM whose migration the journal left unfinished, as ID=QMP (its QEMU's monitor, as the agent's --vm or " +
                "migrate's --qmp gave it); repeat for several.");
        var json = new Option<bool>("--json") { Description = "Print what recovery did as JSON." };
        var command = new Command("recover", """
            Finishes every migration a crash interrupted: what committed rolls forward, everything else rolls back,
            decided from the journal and the ownership registry; residue is sanitized as the agent would. Running it
            twice changes nothing the second time. Exit code 1 when a migration stays in doubt (the registry could
            not be reached) or could not be finished (a VM's QEMU not given with --vm, say).
            On a demo cluster (secmig demo --work) it recovers every host of the cluster. On a real host's --work
            it needs what the agent or migrate ran with: --registry, the credentials, --memory-dir and --vm ID=QMP
            for the VMs in flight ('secmig status' lists them). The agent and migrate also recover when they start;
            this command is for a host whose agent stays down, and must not run while one uses the directory.

            Examples:
              secmig recover --work ./cluster
              secmig recover --work /var/lib/secmig --registry /shared/secmig/ownership --vm vm1=/run/vm1.qmp \
                --cert dst/cert.pem --key dst/key.pem --ca ca/ca.pem --memory-dir /dev/shm
            """)
        { vms, json };
        live.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string directory = Path.GetFullPath(parse.GetValue(live.Work)!);
            IReadOnlyList<(string Host, RecoveredMigration Migration)> recovered = HostStatus.IsHostWork(directory)
                ? await RecoverHostAsync(parse, live, VmMonitors.Parse(parse.GetValue(vms) ?? []), directory, cancellationToken)
                : await RecoverClusterAsync(directory, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(recovered.Select(r => new { host = r.Host, migration = r.Migration }),
                    CliJson.Options));
            }
            else if (recovered.Count == 0)
            {
                Console.WriteLine("Nothing to recover: every migration in the journals has ended.");
            }
            else
            {
                foreach ((string host, RecoveredMigration migration) in recovered)
                {
                    Console.WriteLine($"{host}: migration {migration.MigrationId:D} of {migration.VmId} ({migration.Role}) " +
                        $"{migration.From} -> {migration.To}: {migration.Decision}");
                }
            }

            return recovered.Any(r => !MigrationStateMachine.IsFinal(r.Migration.To)) ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }

    private static async Task<IReadOnlyList<(string Host, RecoveredMigration Migration)>> RecoverClusterAsync(string directory,
        CancellationToken cancellationToken)
    {
        await using SimulatedCluster cluster = await SimulatedCluster.OpenAsync(directory, create: false);
        return await cluster.RecoverAsync(cancellationToken);
    }

    /// <summary>Recovers a real host's work directory as its agent or migrate would when it starts, with the same settings.</summary>
    private static async Task<IReadOnlyList<(string Host, RecoveredMigration Migration)>> RecoverHostAsync(ParseResult parse,
        LiveOptions live,
        IReadOnlyList<Qemu.QemuVm> vms, string directory, CancellationToken cancellationToken)
    {
        // Recovery decides by the registry, so it is never the default (WORK/ownership): a registry that is not the shared
        // one would have the VMs in flight judged by records that never saw them.
        if (!live.Credentials.AreGiven(parse) || parse.GetResult(live.Registry) is null)
        {
            throw new ArgumentException($"'{directory}' is a real host's work directory: recovering it needs the credentials its agent " +
                $"or migrate runs with " +
                "(--cert, --key and --ca, or --psk-keyring with --local-name), since the registry records it writes are signed with " +
                    "them, " +
                "the shared --registry it decides by, and --vm ID=QMP for the VMs in flight. Nothing was changed.");
        }

        using ILoggerFactory logging = live.CreateLogging(parse);
        await using LiveHost host = await LiveHost.OpenAsync(live.Settings(parse, vms, null, null, logging), cancellationToken);
        IReadOnlyList<RecoveredMigration> recovered = await host.Coordinator.RecoverAsync(cancellationToken);
        await host.SaveAdmissionAsync(CancellationToken.None);
        return [.. recovered.Select(migration => (host.Id, migration))];
    }
}
