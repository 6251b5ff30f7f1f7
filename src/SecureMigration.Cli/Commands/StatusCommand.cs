using System.CommandLine;
using System.Text.Json;
using SecureMigration.Cli.Cluster;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Cli.Commands;

internal static class StatusCommand
{
    public static Command Create()
    {
        Option<string> work = WorkOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the status as JSON." };
        var command = new Command("status", """
            Shows, per VM, which host holds its ownership epoch, which copies exist on which host, the phase of its
            latest migration on each host, and any residue (leftover images and snapshots). Changes nothing.

            Examples:
              secmig status --work ./cluster
              secmig status --work ./cluster --json
            """)
        { work, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            IReadOnlyList<VmStatusReport> reports = await ClusterStatus.ReadAsync(parse.GetValue(work)!, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reports, CliJson.Options));
                return ExitCodes.Success;
            }

            ConsoleStyle style = ConsoleStyle.Standard;
            foreach (VmStatusReport vm in reports)
            {
                style.Line(style.Strong($"{vm.Vm}: owner {vm.Owner ?? "(unknown)"}, epoch {vm.Epoch}"));
                foreach (VmCopyReport copy in vm.Copies)
                {
                    style.Line($"  copy on {copy.Host}: {copy.State}{(copy.Runnable ? " (runnable)" : string.Empty)}");
                }

                foreach (VmMigrationReport migration in vm.Migrations)
                {
                    style.Line($"  last migration on {migration.Host}: {migration.MigrationId:D} ({migration.Role}) {migration.Phase}{(migration.Reason is null ? string.Empty : ": " + migration.Reason)}");
                }

                style.Line(vm.Residue.Count == 0 ? "  residue: none" : "  residue: " + string.Join(", ", vm.Residue));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
