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
}
