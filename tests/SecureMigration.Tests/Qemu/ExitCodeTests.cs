using SecureMigration.Cli;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// The exit codes of 'secmig migrate' that only a real migration reaches (issue 16): 4 when the ownership registry is
/// gone after the commit was requested, 130 when SIGTERM stops it mid-transfer. Each ends with the VM safe and the
/// corrected run succeeding.
/// </summary>
public sealed class ExitCodeTests
{
    /// <summary>
    /// The source reaches the shared registry through a symbolic link that a post-migrate hook removes, as an unmounted
    /// share would vanish, after the transfer and before the commit: the destination commits in the real registry, and
    /// the source, which cannot ask it, must neither resume nor destroy its copy.
    /// </summary>
    [RequiresQemuFact]
    public async Task Migrate_RegistryGoneAfterTheCommitRequest_Exits4WithTheVmPausedAndRecoverRollsForward()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        string share = Path.Combine(rig.Root, "share");
        Directory.CreateSymbolicLink(share, rig.Registry);
        string hooks = Path.Combine(rig.Root, "hooks");
        string unmount = Path.Combine(hooks, "post-migrate", "unmount");
        Directory.CreateDirectory(Path.GetDirectoryName(unmount)!);
        await File.WriteAllTextAsync(unmount, $"#!/bin/sh\nrm '{share}'\n");
        File.SetUnixFileMode(unmount, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        (int exit, string output) = await rig.MigrateWithRegistryAsync(share, rig.X509("src"), "--hooks", hooks, "--retries", "0");

        Assert.True(exit == ExitCodes.InDoubt, output);
        Assert.Contains("result vm1 InDoubt", output, StringComparison.Ordinal);
        Assert.Contains($"once the registry '{share}' is reachable again", output, StringComparison.Ordinal);
        Assert.Contains($"secmig recover --work {rig.SourceWork}", output, StringComparison.Ordinal);
        Assert.Equal("Completed", await rig.AgentResultAsync());
        Assert.True(rig.Source.IsAlive, "in doubt, the source keeps its copy");
        Assert.Equal("postmigrate", await rig.Source.StatusAsync()); // QEMU's paused state after its outgoing migration
        Assert.Equal("running", await rig.Destination.StatusAsync());

        // The share is back: recovery asks the registry, which shows the destination's commit.
        Directory.Delete(share, recursive: true);
        Directory.CreateSymbolicLink(share, rig.Registry);
        (exit, output) = await Secmig.RunAsync(
        [
            "recover", "--work", rig.SourceWork, "--registry", share, "--vm", $"{LiveMigrationRig.VmId}={rig.Source.AgentMonitor}",
            "--memory-dir", rig.Root, .. rig.X509("src"),
        ]);

        Assert.True(exit == 0, output);
        Assert.Contains("the registry shows the destination took the epoch: rolled forward", output, StringComparison.Ordinal);
        Assert.False(rig.Source.IsAlive, "after the commit, the source's copy goes");
        Assert.Equal("running", await rig.Destination.StatusAsync());
        TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
    }

    [RequiresQemuFact]
    public async Task Migrate_SigtermMidTransfer_Exits130WithTheVmRunningOnTheSourceAndTheNextMigrateCommits()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--stall-timeout", "2"); // the stalled path keeps the abort from the agent
        ExternalProcess migrate = await rig.StartMigrateHeldMidTransferAsync(rig.X509("src"), "--retries", "0");

        await migrate.SignalAsync("TERM");
        int exit = await migrate.WaitForExitAsync();

        Assert.True(exit == ExitCodes.Interrupted, $"exit {exit}: {migrate.Output}");
        Assert.Contains("result vm1 RolledBack", migrate.Output, StringComparison.Ordinal);
        await rig.AssertSourceRunsAsync();
        Assert.Equal("RolledBack", await rig.AgentResultAsync());
        await rig.StartDestinationQemuAsync();
        (exit, string output) = await rig.MigrateThroughAsync(null, rig.X509("src"));
        Assert.True(exit == 0, output);
        Assert.Equal("running", await rig.Destination.StatusAsync());
    }
}
