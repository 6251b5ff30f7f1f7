using System.Net.Http.Json;
using System.Text.Json;
using SecureMigration.Cli.Control;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// Migrations asked of the source host's agent through its control API (issue 19): 'secmig migrate --agent' prints what
/// the in-process 'secmig migrate' prints and ends with the same exit code, with a real QEMU guest on each side.
/// </summary>
public sealed class AgentMigrationTests
{
    [RequiresQemuFact]
    public async Task MigrateThroughTheSourceAgent_Completes_WithTheLinesJsonAndExitCodeOfMigrate()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");
        string control = await rig.StartSourceAgentAsync(rig.X509("src"), "--allow-peer", "dst.test");

        (int exit, string output) = await rig.MigrateThroughAgentAsync(control, "--json");

        Assert.True(exit == 0, output);
        Assert.Contains("phase vm1 Transferring", output, StringComparison.Ordinal);
        Assert.Contains("result vm1 Completed", output, StringComparison.Ordinal);
        Assert.Matches(@"qemu vm1 status=completed total-ms=\d+ downtime-ms=\d+", output);
        // --json: standard output is one JSON object (it comes first in the captured output; the lines went to standard error).
        using JsonDocument outcome = JsonDocument.Parse(output[..(output.IndexOf("\n}", StringComparison.Ordinal) + 2)]);
        Assert.Equal("Completed", outcome.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, outcome.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("completed", outcome.RootElement.GetProperty("qemu").GetProperty("status").GetString());
        Assert.Equal("Completed", await rig.AgentResultAsync());
        Assert.False(rig.Source.IsAlive, "the source QEMU must have quit after the commit");
        Assert.Equal("running", await rig.Destination.StatusAsync());
    }

    /// <summary>Ctrl+C on 'secmig migrate --agent' mid-transfer cancels the agent's migration: it rolls back, the client follows the
    /// rollback to its end and exits 130 as the in-process migrate does, and the VM runs on the source.</summary>
    [RequiresQemuFact]
    public async Task MigrateThroughTheSourceAgent_CtrlCMidTransfer_RollsBackAndExits130()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");
        string control = await rig.StartSourceAgentAsync(rig.X509("src"), "--allow-peer", "dst.test");
        rig.AddRelay().StallAt = 8L << 20;

        ExternalProcess migrate = rig.StartMigrateThroughAgent(control, "--retries", "0");
        await LiveMigrationRig.HeldMidTransferAsync(rig.Relay!, migrate);
        await migrate.SignalAsync("INT");
        int exit = await migrate.WaitForExitAsync();

        Assert.True(exit == 130, migrate.Output);
        Assert.Contains("result vm1 RolledBack", migrate.Output, StringComparison.Ordinal);
        await rig.AssertSourceRunsAsync();
    }

    /// <summary>What the agent refuses comes back as one line and exit 2, with nothing started; the agent's own options
    /// (the VM's monitor, the credentials) are refused on the command line with --agent.</summary>
    [RequiresQemuFact]
    public async Task MigrateThroughTheSourceAgent_BadRequests_EndWithOneLineAndExitTwo()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");
        string control = await rig.StartSourceAgentAsync(rig.X509("src"), "--allow-peer", "dst.test");

        (int unknownExit, string unknown) = await Secmig.RunAsync("migrate", "--agent", control, "--vm", "vm9", "--to",
            rig.AgentEndPoint!.ToString(), "--peer-name", "dst.test");
        (int ownExit, string own) = await rig.MigrateThroughAgentAsync(control, "--qmp", "/run/vm1.qmp");
        (int noAgentExit, string noAgent) = await rig.MigrateThroughAgentAsync(Path.Combine(rig.Root, "none.sock"));
        using HttpClient client = AgentClient.Connect(control);
        using HttpResponseMessage badAddress = await client.PostAsJsonAsync("/v1/migrations", new { vm = "vm1", to = "nowhere",
            peerName = "dst.test" });

        Assert.True(unknownExit == 2, unknown);
        Assert.Contains("the agent refused: this agent does not serve VM 'vm9'", unknown, StringComparison.Ordinal);
        Assert.True(ownExit == 2, own);
        Assert.Contains("--qmp is the agent's own with --agent", own, StringComparison.Ordinal);
        Assert.True(noAgentExit == 2, noAgent);
        Assert.Contains("There is no agent control socket at", noAgent, StringComparison.Ordinal);
        Assert.All(new[] { unknown, own, noAgent }, output => Assert.DoesNotContain("   at ", output, StringComparison.Ordinal));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badAddress.StatusCode);
        Assert.Empty(JsonDocument.Parse(await client.GetStringAsync("/v1/migrations")).RootElement.EnumerateArray());
        await rig.AssertSourceRunsAsync();
    }
}
