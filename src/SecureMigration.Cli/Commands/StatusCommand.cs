using System.CommandLine;
using System.Text.Json;
using SecureMigration.Cli.Cluster;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Commands;

internal static class StatusCommand
{
    public static Command Create()
    {
        Option<string> work = WorkOption.Create();
        var registry = new Option<string?>("--registry") { Description = "A real host's shared ownership registry, to show each VM's " +
            "owner and epoch: a directory, or etcd://HOST:PORT[,...] (with --cert, --key and --ca), which also lists every VM " +
            "the cluster knows." };
        var credentials = new CredentialOptions();
        var json = new Option<bool>("--json") { Description = "Print the status as JSON." };
        var command = new Command("status", """
            Shows, per VM, which host holds its ownership epoch, the phase of its latest migration, and any residue
            (leftover images and snapshots). On a demo cluster (secmig demo --work) also the copies on each host; on a
            real host's --work (secmig agent or migrate) the VMs its journal and admission state know, and what
            holds their next migration back (breaker, backoff, retry budget). Changes nothing.

            Examples:
              secmig status --work ./cluster
              secmig status --work /var/lib/secmig --registry /shared/secmig/ownership
              secmig status --work /var/lib/secmig --registry etcd://10.0.0.1:2379 --cert c.pem --key k.pem --ca ca.pem
              secmig status --work ./cluster --json
            """)
        { work, registry, json, credentials.Certificate, credentials.Key, credentials.Ca };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string directory = Path.GetFullPath(parse.GetValue(work)!);
            using IDisposable? opened = OpenRegistry(parse.GetValue(registry), parse, credentials) as IDisposable;
            IReadOnlyList<VmStatusReport> reports = HostStatus.IsHostWork(directory)
                ? await HostStatus.ReadAsync(directory, opened as IOwnershipRegistry ?? DirectoryRegistry(parse.GetValue(registry)),
                    cancellationToken)
                : await ClusterStatus.ReadAsync(directory, cancellationToken);
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
                    style.Line(migration.Phase == HostStatus.InFlight
                        ? $"  in flight: {migration.MigrationId:D}: {migration.Reason}"
                        : $"  last migration on {migration.Host}: {migration.MigrationId:D} ({migration.Role}) " +
                            $"{migration.Phase}{(migration.Reason is null ? string.Empty : ": " + migration.Reason)}");
                }

                style.Line(vm.Residue.Count == 0 ? "  residue: none" : "  residue: " + string.Join(", ", vm.Residue));
                if (vm.HeldBack.Count > 0)
                {
                    style.Line("  held back: " + string.Join(", ", vm.HeldBack) + " (secmig admission reset clears it)");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>An etcd registry opened with this host's certificate, or <see langword="null"/> for a directory or none.</summary>
    private static IOwnershipRegistry? OpenRegistry(string? location, ParseResult parse, CredentialOptions credentials)
    {
        if (location is null || !RegistryLocation.IsEtcd(location))
        {
            return null;
        }

        if (parse.GetValue(credentials.Certificate) is not { } certificate || parse.GetValue(credentials.Key) is not { } key ||
            parse.GetValue(credentials.Ca) is not { } ca)
        {
            throw new ArgumentException("An etcd registry is read with this host's certificate: give --cert, --key and --ca.");
        }

        return RegistryLocation.Open(location, X509ChannelCredentials.FromPemFiles(certificate.FullName, key.FullName, ca.FullName));
    }

    /// <summary>The directory registry, read without a key of its own (signatures are checked, not made).</summary>
    private static IOwnershipRegistry? DirectoryRegistry(string? location) =>
        location is null ? null : new FileOwnershipRegistry(Path.GetFullPath(location));
}
