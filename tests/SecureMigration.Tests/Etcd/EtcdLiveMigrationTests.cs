using SecureMigration.Coordination.Ownership;
using SecureMigration.Etcd;
using SecureMigration.Testing.Pki;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// 'secmig agent' and 'secmig migrate' with <c>--registry etcd://...</c>: a real QEMU guest migrates, and the commit is
/// the compare-and-swap in a real three-member etcd cluster, reached with each host's certificate from 'secmig pki'.
/// </summary>
public sealed class EtcdLiveMigrationTests
{
    [RequiresQemuFact("etcd")]
    public async Task Migrate_WithAnEtcdRegistry_CommitsInEtcd_AndWritesNoRegistryFile()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        string defaultRegistry = rig.Registry;
        using CertificateAuthority ca = CertificateAuthority.Load(File.ReadAllText(Path.Combine(rig.Root, "ca", "ca.pem")),
            File.ReadAllText(Path.Combine(rig.Root, "ca", "ca.key")));
        await using EtcdCluster etcd = await EtcdCluster.StartAsync(ca);
        rig.Registry = etcd.ConnectionString;
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"));

        Assert.True(exit == 0, output);
        Assert.Contains("result vm1 Completed", output, StringComparison.Ordinal);
        Assert.Equal("Completed", await rig.AgentResultAsync());
        Assert.Equal("running", await rig.Destination.StatusAsync());
        using var registry = new EtcdOwnershipRegistry(etcd.Options("observer.test", EtcdRegistryOptions.DefaultKeyPrefix));
        OwnershipRecord record = (await registry.GetAsync(LiveMigrationRig.VmId))!;
        Assert.Equal(("dst.test", 2L), (record.Owner, record.Epoch));
        Assert.False(Directory.Exists(defaultRegistry), "with an etcd registry no registry directory is written");

        // Another VM of the cluster, known to etcd but not to this host: status lists it too.
        using var other = new EtcdOwnershipRegistry(etcd.Options("other.test", EtcdRegistryOptions.DefaultKeyPrefix));
        await other.RegisterAsync("vm-elsewhere", "other.test");
        (int statusExit, string status) = await Secmig.RunAsync(["status", "--work", rig.DestinationWork, "--registry",
            etcd.ConnectionString,
            .. rig.X509("dst")]);
        Assert.True(statusExit == 0, status);
        Assert.Contains("vm1: owner dst.test, epoch 2", status, StringComparison.Ordinal);
        Assert.Contains("vm-elsewhere: owner other.test, epoch 1", status, StringComparison.Ordinal);
    }

    /// <summary>
    /// The orchestrator ('secmig migrate') is killed mid-transfer while it holds its migration's lease and its admission
    /// slots: etcd drops both by itself once their time to live passes (nothing of the dead process remains in the registry
    /// but the ownership record), and the restarted orchestrator decides the migration from the registry alone and migrates the VM.
    /// </summary>
    [RequiresQemuFact("etcd")]
    public async Task Migrate_OrchestratorKilledHoldingItsLease_TheLeaseExpires_AndTheRestartRecoversFromTheRegistry()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        using CertificateAuthority ca = CertificateAuthority.Load(File.ReadAllText(Path.Combine(rig.Root, "ca", "ca.pem")),
            File.ReadAllText(Path.Combine(rig.Root, "ca", "ca.key")));
        await using EtcdCluster etcd = await EtcdCluster.StartAsync(ca);
        rig.Registry = etcd.ConnectionString + "?lease-ttl=2";
        using var observer = new EtcdOwnershipRegistry(etcd.Options("observer.test", EtcdRegistryOptions.DefaultKeyPrefix));
        // The agent waits out the held stream longer than the status command below takes on a loaded machine.
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test", "--stall-timeout", "10");
        ExternalProcess migrate = await rig.StartMigrateHeldMidTransferAsync(rig.X509("src"), "--retries", "0");

        InFlightMigration held = Assert.Single(await observer.ListInFlightAsync());
        EtcdRegistryOptions raw = etcd.Options("observer.test", EtcdRegistryOptions.DefaultKeyPrefix);
        const string Slots = EtcdRegistryOptions.DefaultKeyPrefix + "admission/slots/";
        long slotsHeld = await etcd.CountRawAsync(raw, Slots);
        (int statusExit, string status) = await Secmig.RunAsync(["status", "--work", rig.DestinationWork, "--registry",
            etcd.ConnectionString, .. rig.X509("dst")]);
        await migrate.KillAsync();

        Assert.Equal((LiveMigrationRig.VmId, "src.test", "dst.test"), (held.VmId, held.Source, held.Destination));
        Assert.True(statusExit == 0, status);
        Assert.Contains($"in flight: {held.MigrationId}: 'src.test' to 'dst.test'", status, StringComparison.Ordinal);
        Assert.Equal("RolledBack", await rig.AgentResultAsync());
        Assert.Equal(3, slotsHeld); // the cluster's, the source's outbound and the destination's inbound admission slots
        await WaitForAsync(async () => (await observer.ListInFlightAsync()).Count == 0 && await etcd.CountRawAsync(raw, Slots) == 0,
            "etcd to expire the dead orchestrator's leases");
        await rig.StartDestinationQemuAsync();
        (int exit, string output) = await rig.MigrateThroughAsync(null, rig.X509("src"));
        Assert.True(exit == 0, output);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, @"recovered vm1 \S+ Source"), output);
        Assert.Equal(("dst.test", 3L), ((await observer.GetAsync(LiveMigrationRig.VmId))!.Owner,
            (await observer.GetAsync(LiveMigrationRig.VmId))!.Epoch));
        Assert.Empty(await observer.ListInFlightAsync());
    }

    [Fact]
    public async Task Migrate_WithAnEtcdRegistryAndPreSharedKeys_ExitsTwoAndSaysWhy()
    {
        using var dir = new TempDirectory();
        await Secmig.RunAsync("pki", "psk", "--out", dir.File("keyring"), "--identity", "src.test", "--identity", "dst.test");

        (int exit, string output) = await Secmig.RunAsync("migrate", "--vm", "vm1", "--qmp", dir.File("vm1.qmp"), "--to", "127.0.0.1:1",
            "--peer-name", "dst.test", "--work", dir.File("work"), "--registry", "etcd://127.0.0.1:2379", "--psk-keyring",
            dir.File("keyring/src.test.keys"), "--local-name", "src.test");

        Assert.True(exit == 2, output);
        Assert.Contains("etcd registry is reached with this host's certificate", output, StringComparison.Ordinal);
    }

    /// <summary>Waits for a condition an external process brings about on its own clock (etcd's lease timer).</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            Assert.False(patience.IsCancellationRequested, $"Timed out waiting for {what}.");
            await Task.Delay(100); // etcd expires leases on its own timer, which no test can drive
        }
    }
}
