using SecureMigration.Admission;
using SecureMigration.Admission.State;
using SecureMigration.Cli.Cluster;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Identity;

namespace SecureMigration.Cli.Live;

/// <summary>
/// Reads a real host's state without changing it (<c>secmig status --work DIR [--registry DIR]</c>): for each VM its
/// journal or its admission state knows, the owner and epoch in the registry, the latest migration's phase on this
/// host, its snapshots left over, what holds it back (breaker, backoff, retry budget), and, with an etcd registry, every
/// VM of the cluster and every migration in flight there.
/// </summary>
internal static class HostStatus
{
    /// <summary>The phase reported for a migration in flight in the cluster, known by the lease its source holds.</summary>
    public const string InFlight = "InFlight";

    /// <summary>Whether <paramref name="work"/> is a real host's work directory (what 'secmig agent' or 'migrate' keep).</summary>
    public static bool IsHostWork(string work) =>
        File.Exists(Path.Combine(work, "journal.smj")) || File.Exists(Path.Combine(work, "admission.state"));

    public static async Task<IReadOnlyList<VmStatusReport>> ReadAsync(string work, IOwnershipRegistry? registry,
        CancellationToken cancellationToken)
    {
        string keyPath = Path.Combine(work, "host.key");
        if (!File.Exists(keyPath))
        {
            throw new FileNotFoundException($"'{work}' has no host.key, so its journal cannot be read; pass the --work of an agent or " +
                $"migrate.", keyPath);
        }

        IReadOnlyList<JournalRecord> records;
        using (HostKey key = HostKey.LoadOrCreate(keyPath))
        {
            string journal = Path.Combine(work, "journal.smj");
            records = File.Exists(journal) ? MigrationJournal.Read(journal, key).Records : [];
        }

        AdmissionController admission = await AdmissionController.RestoreAsync(new AdmissionOptions(),
            new FileAdmissionStateStore(Path.Combine(work, "admission.state")), cancellationToken: cancellationToken);
        // An etcd registry knows every VM of the cluster, not only those this host's journal and admission state know.
        IReadOnlyList<string> cluster = registry is EtcdOwnershipRegistry etcd ? await etcd.ListVmIdsAsync(cancellationToken) : [];
        // And every migration in flight across the cluster, by the lease its source holds.
        IReadOnlyList<InFlightMigration> inFlight = registry is IMigrationLeases leases ? await leases.ListInFlightAsync(cancellationToken)
            : [];
        var reports = new List<VmStatusReport>();
        foreach (string vm in records.Select(r => r.VmId).Concat(admission.KnownVmIds()).Concat(cluster).Concat(inFlight.Select(m =>
            m.VmId))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            (string? owner, long epoch) = await OwnerAsync(registry, vm, cancellationToken);
            var migrations = new List<VmMigrationReport>();
            var residue = new List<string>();
            if (records.LastOrDefault(r => r.VmId == vm) is { } latest)
            {
                JournalRecord last = records.Last(r => r.MigrationId == latest.MigrationId);
                migrations.Add(new VmMigrationReport("this host", last.MigrationId, last.Role.ToString(), last.Phase.ToString(),
                    last.Reason, last.At));
                residue.AddRange(records.Where(r => r.VmId == vm && r.Snapshot is not null && Directory.Exists(r.Snapshot))
                    .Select(r => r.Snapshot!).Distinct());
            }

            migrations.AddRange(inFlight.Where(m => m.VmId == vm).Select(m => new VmMigrationReport(m.Source, m.MigrationId, "Source",
                InFlight, $"'{m.Source}' to '{m.Destination}', started {m.StartedAt:u}, holding its lease in the registry", m.StartedAt)));
            reports.Add(new VmStatusReport(vm, owner, epoch, [], migrations, residue) { HeldBack = admission.HeldBack(vm) });
        }

        return reports;
    }

    private static async Task<(string? Owner, long Epoch)> OwnerAsync(IOwnershipRegistry? registry, string vm,
        CancellationToken cancellationToken)
    {
        if (registry is null)
        {
            return ("(pass --registry to read it)", 0);
        }

        try
        {
            return await registry.GetAsync(vm, cancellationToken) is { } record ? (record.Owner, record.Epoch) : (null, 0);
        }
        catch (OwnershipRegistryException e)
        {
            return ($"(unreadable: {e.Message})", 0);
        }
    }
}
