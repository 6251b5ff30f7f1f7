using SecureMigration.Coordination.Ownership;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// A new operator's ordinary mistakes, made with real 'secmig' processes and QEMU (issue 16): each ends at once with
/// the exit code and words that name its cause, and the corrected command run right after succeeds (no lockout).
/// </summary>
public sealed class OperatorMistakeTests
{
    [RequiresQemuFact]
    public async Task Migrate_WrongPeerName_EndsAtOnceWithExit3AndTheCorrectCommandThenCommits()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");

        (int typo, string typoOutput) = await rig.MigrateExpectingAsync("dst.tset", rig.X509("src"));

        Assert.True(typo == 3, typoOutput);
        Assert.Contains("dst.tset", typoOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("retry vm1", typoOutput, StringComparison.Ordinal);
        Assert.Equal("inmigrate", await rig.Destination.StatusAsync());
        await rig.AssertSourceRunsAsync();

        (int corrected, string output) = await rig.MigrateAsync(rig.X509("src"));

        Assert.True(corrected == 0, output);
        Assert.Equal("Completed", await rig.AgentResultAsync());
    }

    [RequiresQemuFact]
    public async Task Migrate_ToANameThatDoesNotResolve_EndsAtOnceNamingItAndTheCorrectCommandThenCommits()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");

        (int typo, string typoOutput) = await RunMigrateAsync(rig, "dst.invalid:4443");

        Assert.True(typo == 3, typoOutput);
        Assert.Contains("'dst.invalid' does not resolve", typoOutput, StringComparison.Ordinal);
        Assert.Contains("--peer-name is the name in the destination's certificate", typoOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("retry vm1", typoOutput, StringComparison.Ordinal);
        await rig.AssertSourceRunsAsync();

        (int corrected, string output) = await rig.MigrateAsync(rig.X509("src"));

        Assert.True(corrected == 0, output);
    }

    [RequiresQemuFact]
    public async Task Migrate_WhereNoAgentListens_SaysWhichAddressAndAsksWhetherTheAgentRuns()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        int closed = FreePort.Next();

        (int exit, string output) = await RunMigrateAsync(rig, $"127.0.0.1:{closed}");

        Assert.True(exit == 1, output);
        Assert.Contains($"Nothing accepts connections at 127.0.0.1:{closed}", output, StringComparison.Ordinal);
        Assert.Contains("Is 'secmig agent' running there", output, StringComparison.Ordinal);
        await rig.AssertSourceRunsAsync();
    }

    [RequiresQemuFact]
    public async Task Migrate_WithAWrongQmpPath_SaysWhereItLookedAndExits3()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        string wrong = Path.Combine(rig.Root, "no-such.qmp");

        (int exit, string output) = await RunMigrateAsync(rig, "127.0.0.1:1", qmp: wrong);

        Assert.True(exit == 3, output);
        Assert.Contains($"no QEMU answers at its monitor unix:{wrong}", output, StringComparison.Ordinal);
        Assert.Contains("fix --qmp", output, StringComparison.Ordinal);
        await rig.AssertSourceRunsAsync();
    }

    /// <summary>
    /// A source that passes a registry of its own (whose epoch for the VM happens to equal the shared registry's) is refused
    /// by the destination, which names --registry on both sides; the waiting QEMU is untouched and the corrected command commits.
    /// </summary>
    [RequiresQemuFact]
    public async Task Migrate_WithAnotherRegistryThanTheDestinations_IsRefusedNamingTheRegistryAndTheCorrectCommandThenCommits()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await new FileOwnershipRegistry(rig.Registry, signer: rig.Credentials("src")).RegisterAsync(LiveMigrationRig.VmId, "src.test");
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");
        string privateRegistry = Path.Combine(rig.Root, "private-registry");

        (int mistake, string mistakeOutput) = await rig.MigrateWithRegistryAsync(privateRegistry, rig.X509("src"), "--retries", "2");

        Assert.True(mistake == 3, mistakeOutput);
        Assert.Contains("different registries", mistakeOutput, StringComparison.Ordinal);
        Assert.Contains("--registry", mistakeOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("retry vm1", mistakeOutput, StringComparison.Ordinal);
        Assert.Equal("inmigrate", await rig.Destination.StatusAsync());
        await rig.AssertSourceRunsAsync();

        (int corrected, string output) = await rig.MigrateAsync(rig.X509("src"));

        Assert.True(corrected == 0, output);
        Assert.Equal("Completed", await rig.AgentResultAsync());
    }

    private static Task<(int ExitCode, string Output)> RunMigrateAsync(LiveMigrationRig rig, string to, string? qmp = null) =>
        Secmig.RunAsync([
        "migrate", "--vm", LiveMigrationRig.VmId, "--qmp", qmp ?? rig.Source.AgentMonitor, "--to", to, "--peer-name", "dst.test",
        "--work", Path.Combine(rig.Root, "src-work"), "--registry", rig.Registry, "--retries", "0", .. rig.X509("src")]);
}
