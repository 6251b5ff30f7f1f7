using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// End-to-end live migrations of a real QEMU guest between 'secmig migrate' and 'secmig agent' processes, through the
/// secure channel and the coordinator, with attacks on the wire between them.
/// </summary>
public sealed class LiveMigrationTests
{
    [RequiresQemuFact]
    public async Task Migrate_ToAgent_DestinationRunsTheIntactGuestAndTheSourceIsGone()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--allow-peer", "src.test");

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"));

        Assert.True(exit == 0, output);
        Assert.Contains("result vm1 Completed", output);
        Assert.Matches(@"qemu vm1 status=completed total-ms=\d+ downtime-ms=\d+", output);
        Assert.Equal("Completed", await rig.AgentResultAsync());
        Assert.False(rig.Source.IsAlive, "the source QEMU must have quit after the commit");
        Assert.False(File.Exists(rig.Source.MemoryFile), "the source's RAM file must have been sanitized and removed");
        Assert.Equal("running", await rig.Destination.StatusAsync());
        uint counter = TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
        await WaitUntilAsync(async () => await rig.Destination.CounterAsync() > counter, "the guest to keep counting on the destination");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            Assert.False(patience.IsCancellationRequested, $"Timed out waiting for {what}.");
            await Task.Delay(20); // polls the guest, which has no way to signal
        }
    }
}
