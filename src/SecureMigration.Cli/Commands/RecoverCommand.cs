using System.CommandLine;
using System.Text.Json;
using SecureMigration.Cli.Cluster;
using SecureMigration.Coordination;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Cli.Commands;

internal static class RecoverCommand
{
    public static Command Create()
    {
        Option<string> work = WorkOption.Create();
        var json = new Option<bool>("--json") { Description = "Print what recovery did as JSON." };
        var command = new Command("recover", """
            Finishes every migration a crash interrupted, on every host of a demo cluster (secmig demo --work):
            what committed rolls forward, everything else rolls back, decided from each host's journal and the
            ownership registry. Running it twice changes nothing the second time. Exit code 1 when a migration
            stays in doubt (the registry could not be reached). A real host's --work is recovered by secmig agent
            or migrate when they start; on one, this command changes nothing and exits 2.

            Examples:
              secmig recover --work ./cluster
              secmig recover --work ./cluster --json
            """)
        { work, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string directory = Path.GetFullPath(parse.GetValue(work)!);
            if (Live.HostStatus.IsHostWork(directory))
            {
                throw new ArgumentException($"'{directory}' is a real host's work directory (secmig agent or migrate): they recover it when they start " +
                    $"with --work {directory}, since recovery needs the VMs' QEMU monitors and the host's credentials. " +
                    $"'secmig status --work {directory} --registry DIR' shows what is in flight; nothing was changed.");
            }

            await using SimulatedCluster cluster = SimulatedCluster.Open(directory, create: false);
            IReadOnlyList<(string Host, RecoveredMigration Migration)> recovered = await cluster.RecoverAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(recovered.Select(r => new { host = r.Host, migration = r.Migration }), CliJson.Options));
            }
            else if (recovered.Count == 0)
            {
                Console.WriteLine("Nothing to recover: every migration in the journals has ended.");
            }
            else
            {
                foreach ((string host, RecoveredMigration migration) in recovered)
                {
                    Console.WriteLine($"{host}: migration {migration.MigrationId:D} of {migration.VmId} ({migration.Role}) {migration.From} -> {migration.To}: {migration.Decision}");
                }
            }

            return recovered.Any(r => !MigrationStateMachine.IsFinal(r.Migration.To)) ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }
}
