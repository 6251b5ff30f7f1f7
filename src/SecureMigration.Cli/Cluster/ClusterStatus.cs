using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Identity;
using SecureMigration.Testing.Simulation;

namespace SecureMigration.Cli.Cluster;

/// <summary>One copy of a VM on one host.</summary>
internal sealed record VmCopyReport(string Host, string State, bool Runnable, IReadOnlyList<string> Images);

/// <summary>The latest checkpoint of a VM's latest migration on one host.</summary>
internal sealed record VmMigrationReport(string Host, Guid MigrationId, string Role, string Phase, string? Reason, DateTimeOffset At);

/// <summary>What <c>secmig status</c> says about one VM.</summary>
internal sealed record VmStatusReport(string Vm, string? Owner, long Epoch, IReadOnlyList<VmCopyReport> Copies,
    IReadOnlyList<VmMigrationReport> Migrations, IReadOnlyList<string> Residue)
{
    /// <summary>Gets what holds the VM's next migration back on a real host (breaker, backoff, budget); empty in a demo cluster.</summary>
    public IReadOnlyList<string> HeldBack { get; init; } = [];
}

/// <summary>Reads a simulated cluster's state without changing it: registry, hypervisor states, journals, leftover files.</summary>
internal static class ClusterStatus
{
    public static async Task<IReadOnlyList<VmStatusReport>> ReadAsync(string workDirectory, CancellationToken cancellationToken)
    {
        string work = Path.GetFullPath(workDirectory);
        var credentials = ClusterPki.LoadOrCreate(work, SimulatedCluster.HostNames, create: false);
        var registry = new FileOwnershipRegistry(SimulatedCluster.RegistryDirectory(work));
        var journals = new Dictionary<string, IReadOnlyList<JournalRecord>>();
        foreach (string host in SimulatedCluster.HostNames)
        {
            string directory = SimulatedCluster.HostDirectory(work, host);
            string journal = ClusterHost.JournalPath(directory);
            if (!File.Exists(journal) || !File.Exists(ClusterHost.KeyPath(directory)))
            {
                journals[host] = [];
                continue;
            }

            using HostKey key = HostKey.LoadOrCreate(ClusterHost.KeyPath(directory));
            journals[host] = MigrationJournal.Read(journal, key).Records;
        }

        IEnumerable<string> vms = registry.KnownVmIds()
            .Concat(SimulatedCluster.HostNames.SelectMany(h => SimulatedHypervisor.ListVms(VmDirectory(work, h))));
        var reports = new List<VmStatusReport>();
        foreach (string vm in vms.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            OwnershipRecord? owner = await registry.GetAsync(vm, cancellationToken);
            var copies = new List<VmCopyReport>();
            var residue = new List<string>();
            var migrations = new List<VmMigrationReport>();
            foreach (string host in SimulatedCluster.HostNames)
            {
                VmStatus status = SimulatedHypervisor.Inspect(VmDirectory(work, host), vm);
                if (status.State != VmRunState.Absent)
                {
                    copies.Add(new VmCopyReport(host, status.State.ToString(), status.IsRunnable, status.Images));
                }

                if (!status.IsRunnable && status.State != VmRunState.Incoming)
                {
                    residue.AddRange(status.Images.Select(i => $"{host}: {i}"));
                }

                IReadOnlyList<JournalRecord> records = journals[host];
                if (records.LastOrDefault(r => r.VmId == vm) is { } latest)
                {
                    JournalRecord last = records.Last(r => r.MigrationId == latest.MigrationId);
                    migrations.Add(new VmMigrationReport(host, last.MigrationId, last.Role.ToString(), last.Phase.ToString(), last.Reason,
                        last.At));
                    residue.AddRange(records.Where(r => r.VmId == vm && r.Snapshot is not null && Directory.Exists(r.Snapshot))
                        .Select(r => r.Snapshot!).Distinct().Select(s => $"{host}: {s}"));
                }
            }

            reports.Add(new VmStatusReport(vm, owner?.Owner, owner?.Epoch ?? 0, copies, migrations, residue));
        }

        return reports;
    }

    private static string VmDirectory(string work, string host) => Path.Combine(SimulatedCluster.HostDirectory(work, host), "vms");
}
