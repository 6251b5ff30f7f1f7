using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// Real crashes in the middle of a real QEMU live migration: 'secmig migrate' or 'secmig agent' is killed with SIGKILL
/// while the stream is held mid-transfer, then started again on the same work directory.
/// </summary>
public sealed class CrashRecoveryTests
{
    [RequiresQemuFact]
    public async Task Migrate_KilledMidTransfer_TheVmRunsOnTheSourceAndTheRestartRecoversAndMigrates()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--stall-timeout", "2");
        ExternalProcess migrate = await rig.StartMigrateHeldMidTransferAsync(rig.X509("src"), "--retries", "0");

        await migrate.KillAsync();

        Assert.Equal("RolledBack", await rig.AgentResultAsync());
        rig.AssertDestinationGone();
        await rig.AssertSourceRunsAsync();
        await rig.StartDestinationQemuAsync();
        (int exit, string output) = await rig.MigrateThroughAsync(null, rig.X509("src"));
        Assert.True(exit == 0, output);
        Assert.Matches(@"recovered vm1 \S+ Source", output);
        Assert.Equal("running", await rig.Destination.StatusAsync());
        TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
    }

    [RequiresQemuFact]
    public async Task Agent_KilledMidTransfer_TheSourceRollsBackAndTheRestartSanitizesTheResidue()
    {
        await using LiveMigrationRig rig = await AgentKilledMidTransferAsync();

        await rig.StartAgentAsync(rig.X509("dst"));
        Assert.Matches(@"recovered vm1 \S+ Destination", rig.Agent!.Output);
        rig.AssertDestinationGone();
        await rig.StartDestinationQemuAsync();
        (int exit, string output) = await rig.MigrateThroughAsync(null, rig.X509("src"));
        Assert.True(exit == 0, output);
        Assert.Equal("running", await rig.Destination.StatusAsync());
    }

    /// <summary>Issue 16: 'secmig recover' finishes a real host's interrupted migration while its agent stays down.</summary>
    [RequiresQemuFact]
    public async Task Agent_KilledMidTransfer_SecmigRecoverFinishesItWhileTheAgentIsDownAndTheAgentThenReceives()
    {
        await using LiveMigrationRig rig = await AgentKilledMidTransferAsync();
        string[] recover =
        [
            "recover", "--work", rig.DestinationWork, "--registry", rig.Registry, "--vm",
                $"{LiveMigrationRig.VmId}={rig.Destination.AgentMonitor}",
            "--memory-dir", rig.Root, .. rig.X509("dst"),
        ];

        (int exit, string output) = await Secmig.RunAsync(recover);

        Assert.True(exit == 0, output);
        Assert.Matches(@"dst\.test: migration \S+ of vm1 \(Destination\) \S+ -> RolledBack", output);
        rig.AssertDestinationGone();
        await rig.AssertSourceRunsAsync();
        (exit, output) = await Secmig.RunAsync(recover);
        Assert.True(exit == 0, output);
        Assert.Contains("Nothing to recover", output, StringComparison.Ordinal);
        await rig.StartDestinationQemuAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        Assert.DoesNotContain("recovered", rig.Agent!.Output, StringComparison.Ordinal);
        (exit, output) = await rig.MigrateThroughAsync(null, rig.X509("src"));
        Assert.True(exit == 0, output);
        Assert.Equal("running", await rig.Destination.StatusAsync());
    }

    /// <summary>
    /// The agent killed with SIGKILL while the stream is held mid-transfer: the source rolled back and runs its VM, and
    /// the destination's residue is still there (nothing recovered it yet).
    /// </summary>
    private static async Task<LiveMigrationRig> AgentKilledMidTransferAsync()
    {
        LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        ExternalProcess migrate = await rig.StartMigrateHeldMidTransferAsync(rig.X509("src"), "--stall-timeout", "2", "--retries", "0");

        await rig.Agent!.KillAsync();

        int exit = await migrate.WaitForExitAsync();
        Assert.True(exit == 1, migrate.Output);
        Assert.Contains("result vm1 RolledBack", migrate.Output, StringComparison.Ordinal);
        await rig.AssertSourceRunsAsync();
        Assert.True(File.Exists(rig.Destination.MemoryFile), "the crashed agent cannot have sanitized the destination's RAM yet");
        return rig;
    }
}
