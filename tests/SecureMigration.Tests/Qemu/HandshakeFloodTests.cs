using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// Defense (issue 15, item 2): stalled handshakes from other prefixes cannot lock a known source out of 'secmig agent'.
/// The agent's limits are tight on purpose (16 slots, 4 of them reserved for the known source 127.0.0.1), so the flood
/// fills every slot it may use; with the old limits (per exact address, no reserve) the migration could not start.
/// </summary>
public sealed class HandshakeFloodTests
{
    [RequiresQemuFact]
    public async Task Agent_FloodOf500StalledHandshakes_AMigrationFromAKnownSourceStillCompletesAndMemoryStaysBounded()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test", "--known-source", "127.0.0.1", "--max-handshakes", "16",
            "--reserved-handshakes", "4", "--first-byte-timeout", "2");
        ProcessMemory before = ProcessMemory.Of(rig.Agent!.Id);

        await using (HandshakeFlood flood = HandshakeFlood.Start(rig.AgentEndPoint!, 500))
        {
            await flood.WaitForAttemptsAsync(1000);
            ProcessMemory flooded = ProcessMemory.Of(rig.Agent.Id);

            (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--retries", "0");

            Assert.True(exit == 0, output);
            Assert.Equal("Completed", await rig.AgentResultAsync());
            ProcessMemory after = ProcessMemory.Of(rig.Agent.Id);
            Console.WriteLine($"agent under a flood of {flood.Attempts} connections: before {before}; flooded {flooded}; after {after}");
            Assert.True(after.PeakResidentMiB - before.ResidentMiB < HandshakeFlood.MemoryBoundMiB,
                $"before {before}; flooded {flooded}; after {after}");
        }

        Assert.Equal("running", await rig.Destination.StatusAsync());
        // Thousands of refusals, a bounded number of log lines (two a minute per prefix).
        Assert.InRange(rig.Agent.Output.Split('\n').Count(l => l.Contains("refused before it started", StringComparison.Ordinal)), 1, 20);
    }
}
