using SecureMigration.Audit;
using SecureMigration.Cli.Cluster;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Sanitization;

namespace SecureMigration.Cli.Demo;

/// <summary>
/// The story <c>secmig demo</c> tells on a simulated two-host cluster in a work directory: a coordinated, secure
/// migration, then one scene per attack (spoofing, thrashing, interruption, dual copy), each with its defense and the
/// stable end state, then the residue and the audit trail.
/// </summary>
internal sealed class DemoScenario(ConsoleStyle style, string workDirectory, bool keepsWork, long imageBytes)
{
    private const string VmId = "demo-vm";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        style.Line(style.Strong("SecureMigration demo: a live migration that survives spoofing, thrashing, interruption and dual-copy " +
            "attacks"));
        style.Line(style.Dim(keepsWork
            ? $"Journals, images, registry and audit logs are kept in {workDirectory}"
            : $"Journals, images, registry and audit logs are in {workDirectory}, deleted at the end (keep them with --work DIR)"));
        style.Line();

        style.Line(style.Strong("1. Two hosts with a throwaway PKI"));
        await using SimulatedCluster cluster = await SimulatedCluster.OpenAsync(workDirectory, create: true);
        foreach (RecoveredMigration leftover in (await cluster.RecoverAsync(cancellationToken)).Select(r => r.Migration))
        {
            style.Line($"   Recovered migration {leftover.MigrationId:D} from an earlier run: {leftover.From} -> {leftover.To}.");
        }

        await cluster.EnsureVmAsync(VmId, imageBytes, cancellationToken);
        OwnershipRecord owner = (await cluster.Registry.GetAsync(VmId, cancellationToken))!;
        style.Line($"   {SimulatedCluster.SourceName} and {SimulatedCluster.DestinationName} hold certificates from 'SecureMigration " +
            $"Demo CA' (ECDSA P-256).");
        style.Line($"   VM '{VmId}' ({Units.Bytes(imageBytes)} of memory that its guest keeps dirtying) runs on {owner.Owner}, which " +
            $"holds ownership epoch {owner.Epoch}.");
        style.Line();

        bool migrated = await MigrateScene(cluster, cancellationToken);
        style.Line();
        bool spoofingRefused = await new SpoofingScene(style, cluster).RunAsync(cancellationToken);
        style.Line();
        bool thrashStopped = new ThrashScene(style).Run();
        style.Line();
        bool interruptionHeld = await InterruptScene(cluster, cancellationToken);
        style.Line();
        bool dualCopyPrevented = await DualCopyScene(cluster, cancellationToken);
        style.Line();
        bool trailIntact = ResidueAndAuditScene(cluster);
        style.Line();

        bool held = migrated && spoofingRefused && thrashStopped && interruptionHeld && dualCopyPrevented && trailIntact;
        style.Line(held
            ? style.Good("Every defense held: impostors refused before any VM byte moved, endless retries stopped, every interrupted " +
                "migration back in one stable state, never two runnable copies.")
            : style.Bad("A defense did not hold; see above."));
        return held ? ExitCodes.Success : ExitCodes.Failure;
    }

    private async Task<bool> MigrateScene(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        style.Line(style.Strong("2. A secure, coordinated live migration"));
        ClusterHost from = await OwnerAsync(cluster);
        (MigrationResult source, MigrationResult? destination) = await MigrateAsync(cluster, ClusterAttack.None, cancellationToken);
        bool ok = source.IsCommitted && destination?.IsCommitted == true && await ExactlyOneCopyAsync(cluster);
        ClusterHost now = await OwnerAsync(cluster);
        style.Line(ok
            ? style.Good($"   Committed: {Units.Bytes(source.Bytes)} of stream moved from {from.Id} to {now.Id}, digests matched, epoch " +
                $"{source.Epoch} now belongs to {now.Id}.")
            : style.Bad($"   The migration did not commit: {source.Reason}"));
        string? sent = from.Driver.FrozenImageSha256(VmId);
        string? arrived = now.Driver.FrozenImageSha256(VmId);
        style.Line($"   Memory at switchover  {sent}");
        style.Line($"   Memory on arrival     {arrived}");
        return ok && sent is not null && sent == arrived;
    }

    private async Task<bool> InterruptScene(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        style.Line(style.Strong("5. Interruption: the attacker resets the connection halfway through the stream"));
        ClusterHost before = await OwnerAsync(cluster);
        (MigrationResult source, MigrationResult? destination) = await MigrateAsync(cluster, ClusterAttack.CutMidTransfer,
            cancellationToken);
        ClusterHost after = await OwnerAsync(cluster);
        style.Line($"   Source: {source.Status} ({source.Reason}).");
        style.Line($"   Destination: " +
            $"{destination?.Status.ToString() ?? "never reached"}{(destination?.Reason is { } why ? $" ({why})" : string.Empty)}.");
        bool held = source.Status == MigrationStatus.RolledBack && destination?.IsCommitted != true && before == after &&
            await ExactlyOneCopyAsync(cluster);
        style.Line(held
            ? style.Good($"   Stable: the VM runs on {after.Id} again, which still holds the epoch; the partial copy was destroyed.")
            : style.Bad("   The interrupted migration did not end in a stable state."));
        return held;
    }

    private async Task<bool> DualCopyScene(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        style.Line(style.Strong("6. Dual copy: the attacker drops the destination's final acknowledgement"));
        ClusterHost before = await OwnerAsync(cluster);
        (MigrationResult source, MigrationResult? destination) = await MigrateAsync(cluster, ClusterAttack.DropFinalAcknowledgement,
            cancellationToken);
        ClusterHost after = await OwnerAsync(cluster);
        style.Line($"   The source never heard that the destination committed. A naive orchestrator would resume the VM on {before.Id} " +
            $"now: two running copies.");
        style.Line($"   SecureMigration asked the ownership registry instead: epoch {source.Epoch} belongs to {after.Id}, so the source " +
            $"rolled forward and discarded its copy.");
        bool resumeRefused;
        try
        {
            await before.Driver.ResumeSourceAsync(VmId, cancellationToken);
            resumeRefused = false;
        }
        catch (InvalidOperationException e)
        {
            style.Line($"   Trying to resume the old copy anyway: {e.Message}");
            resumeRefused = true;
        }

        bool held = source.IsCommitted && destination?.IsCommitted == true && before != after && resumeRefused &&
            await ExactlyOneCopyAsync(cluster);
        style.Line(held
            ? style.Good($"   Stable: exactly one runnable copy, on {after.Id}.")
            : style.Bad("   Two copies, or none, could run."));
        return held;
    }

    private bool ResidueAndAuditScene(SimulatedCluster cluster)
    {
        style.Line(style.Strong("7. Residue and the audit trail"));
        bool intact = true;
        foreach (ClusterHost host in cluster.Hosts)
        {
            AuditVerification verification = AuditLog.Verify(ClusterHost.AuditPath(host.Directory), host.Key);
            foreach (AuditEntry residue in verification.Entries.Where(e => e.Event.StartsWith("residue-", StringComparison.Ordinal))
                .TakeLast(3))
            {
                style.Line($"   {host.Id}: {residue.Event} {residue.Detail}");
            }

            intact &= ShowNewestCertificate(cluster, host);
            style.Line(verification.IsIntact
                ? $"   {host.Id}: audit log intact, {verification.Entries.Count} MAC-chained entries " +
                    $"({ClusterHost.AuditPath(host.Directory)})."
                : style.Bad($"   {host.Id}: audit log broken: {verification.Problem}"));
            intact &= verification.IsIntact;
        }

        style.Line(style.Dim("   Leftover images and snapshots were overwritten (NIST SP 800-88 Clear), verified, deleted and certified; " +
            "the audit log says what the storage may still hold."));
        return intact;
    }

    /// <summary>Checks the host's newest certificate of sanitization against the cluster's CA, as 'secmig sanitize verify-cert'
    /// does.</summary>
    private bool ShowNewestCertificate(SimulatedCluster cluster, ClusterHost host)
    {
        var directory = new DirectoryInfo(ClusterHost.CertificatesPath(host.Directory));
        FileInfo? newest = directory.Exists ? directory.GetFiles("*.cert.json").OrderBy(f => f.LastWriteTimeUtc).LastOrDefault() : null;
        if (newest is null)
        {
            return true;
        }

        CertificateVerification check = SanitizationCertificates.Verify(File.ReadAllText(newest.FullName),
            File.ReadAllText(cluster.CaPath));
        style.Line(check.IsValid
            ? $"   {host.Id}: certificate of sanitization {newest.Name}: {check.Certificate!.SanitizationTechnique}, " +
                $"{check.Certificate.VerificationMethod}, signed by {check.Signer}, valid."
            : style.Bad($"   {host.Id}: certificate of sanitization {newest.Name} does not hold: {check.Problem}"));
        return check.IsValid;
    }

    private async Task<(MigrationResult Source, MigrationResult? Destination)> MigrateAsync(SimulatedCluster cluster, ClusterAttack attack,
        CancellationToken cancellationToken)
    {
        ClusterHost owner = await OwnerAsync(cluster);
        ClusterHost other = cluster.Hosts.First(h => h != owner);
        style.Line($"   {owner.Id} -> {other.Id}");
        return await cluster.MigrateAsync(VmId, attack, new MigrationDisplay(style, owner.Id, imageBytes, showBytes: true),
            new MigrationDisplay(style, other.Id, imageBytes, showBytes: false), cancellationToken);
    }

    private static async Task<ClusterHost> OwnerAsync(SimulatedCluster cluster) =>
        cluster.Host((await cluster.Registry.GetAsync(VmId))!.Owner);

    private static async Task<bool> ExactlyOneCopyAsync(SimulatedCluster cluster)
    {
        int runnable = 0;
        foreach (ClusterHost host in cluster.Hosts)
        {
            runnable += (await host.Driver.QueryAsync(VmId)).IsRunnable ? 1 : 0;
        }

        return runnable == 1;
    }
}
