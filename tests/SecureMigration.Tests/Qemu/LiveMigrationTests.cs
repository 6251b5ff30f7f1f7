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
        string certificate = Assert.Single(Directory.GetFiles(Path.Combine(rig.Root, "src-work", "certificates"),
            "*.SourceImage.src.ram.cert.json"));
        Assert.Equal(0, (await Secmig.RunAsync("sanitize", "verify-cert", certificate, "--ca", Path.Combine(rig.Root, "ca",
            "ca.pem"))).ExitCode);
        Assert.Equal("running", await rig.Destination.StatusAsync());
        uint counter = TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
        await WaitUntilAsync(async () => await rig.Destination.CounterAsync() > counter, "the guest to keep counting on the destination");
    }

    [RequiresQemuFact]
    public async Task Migrate_ToAgentWithCertificateFromAnotherCa_IsRefusedBeforeAnyMemoryLeaves()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.AddRogueCaAsync();
        await rig.StartAgentAsync(rig.X509("rogue", "ca"));

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--retries", "0");

        Assert.True(exit != 0, output);
        Assert.DoesNotContain("result vm1 Completed", output);
        await AssertNothingMovedAsync(rig);
    }

    [RequiresQemuFact]
    public async Task Migrate_WithKeyringsFromAnotherCluster_IsRefusedBeforeAnyMemoryLeaves()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        string ours = await rig.NewKeyringsAsync("ours", "src.test", "dst.test");
        string theirs = await rig.NewKeyringsAsync("theirs", "src.test", "dst.test");
        await rig.StartAgentAsync(LiveMigrationRig.Keyring(ours, "dst.test"));

        (int exit, string output) = await rig.MigrateAsync(LiveMigrationRig.Keyring(theirs, "src.test"), "--retries", "0");

        Assert.True(exit != 0, output);
        await AssertNothingMovedAsync(rig);
    }

    [RequiresQemuFact]
    public async Task Migrate_WithPskKeyrings_Commits()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        string keyrings = await rig.NewKeyringsAsync("keyrings", "src.test", "dst.test");
        await rig.StartAgentAsync(LiveMigrationRig.Keyring(keyrings, "dst.test"), "--allow-peer", "src.test");

        (int exit, string output) = await rig.MigrateAsync(LiveMigrationRig.Keyring(keyrings, "src.test"), "--json");

        Assert.True(exit == 0, output);
        // --json: standard output is one JSON object (it comes first in the captured output; progress went to standard error).
        using System.Text.Json.JsonDocument outcome = System.Text.Json.JsonDocument.Parse(output[..(output.IndexOf("\n}",
            StringComparison.Ordinal) + 2)]);
        Assert.Equal("Completed", outcome.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, outcome.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("completed", outcome.RootElement.GetProperty("qemu").GetProperty("status").GetString());
        Assert.True(outcome.RootElement.GetProperty("qemu").GetProperty("transferredBytes").GetInt64() > 0);
        Assert.Equal("running", await rig.Destination.StatusAsync());
        TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
    }

    [RequiresQemuFact]
    public async Task Migrate_StreamCutAtRandomPointsAndInStopAndCopy_SourceRunsAndTheDestinationIsGoneAndSanitized()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        var random = new Random(6);
        long[] offsets = [random.NextInt64(64 * 1024, 4L << 20), random.NextInt64(4L << 20, 32L << 20)];
        int attempt = 0;
        foreach (long? offset in offsets.Select(o => (long?)o).Append(null))
        {
            attempt++;
            if (attempt > 1)
            {
                await rig.StartDestinationQemuAsync();
            }

            await using var relay = new SecureMigration.Testing.Network.NetworkAttacker(rig.AgentEndPoint!) { CutAt = offset };
            if (offset is null)
            {
                // Hold QEMU in the final stop-and-copy: the guest is stopped (STOP) and QEMU waits before switching
                // over, so the cut lands there however loaded the machine is.
                await rig.Source.SetMigrationCapabilityAsync("pause-before-switchover", true);
            }

            Task? stopped = offset is null ? await rig.Source.WatchForEventAsync("STOP") : null;
            // QEMU held before switchover sends nothing: the source must learn of the cut from the channel, not from its
            // stall timeout (30 s by default; the test would take that long).
            Task<(int, string)> migration = rig.MigrateThroughAsync(relay, rig.X509("src"), "--retries", "0");
            if (stopped is not null)
            {
                // The final stop-and-copy: QEMU stops the guest (STOP) and sends what is left; cut right then.
                await stopped;
                relay.CutNow();
            }

            (int exit, string output) = await migration;
            Assert.True(exit == 1, $"cut at {offset?.ToString() ?? "STOP"}: {output}");
            Assert.Contains("result vm1 RolledBack", output);
            Assert.DoesNotContain("nothing moved", output); // the cut was seen on the channel, not waited out
            Assert.Equal("RolledBack", await rig.AgentResultAsync(attempt));
            await rig.AssertSourceRunsAsync();
            rig.AssertDestinationGone();
        }
    }

    [RequiresQemuFact]
    public async Task Migrate_StreamStalls_IdleTimeoutEndsItAndRollsBack()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--stall-timeout", "2");
        rig.AddRelay().StallAt = 8L << 20;

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--stall-timeout", "2", "--retries", "0");

        Assert.True(exit == 1, output);
        Assert.Contains("result vm1 RolledBack", output);
        Assert.Equal("RolledBack", await rig.AgentResultAsync());
        await rig.AssertSourceRunsAsync();
        rig.AssertDestinationGone();
    }

    [RequiresQemuFact]
    public async Task Migrate_ByteFlippedOnTheWire_IsDetectedAndRolledBack()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        rig.AddRelay().FlipAt = 4L << 20;

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--retries", "0");

        Assert.True(exit == 1, output);
        Assert.Equal("RolledBack", await rig.AgentResultAsync());
        await rig.AssertSourceRunsAsync();
        rig.AssertDestinationGone();
    }

    [RequiresQemuFact]
    public async Task Migrate_FinalAcknowledgementDropped_ExactlyOneVmRuns()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"), "--commit-timeout", "2");
        rig.AddRelay().DropFinalAcknowledgementAfter(1L << 20);

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--commit-timeout", "2", "--retries", "0");

        // The source never heard the destination commit; the ownership registry told it so, and it let its copy go.
        Assert.True(exit == 0, output);
        Assert.Equal("Completed", await rig.AgentResultAsync());
        Assert.False(rig.Source.IsAlive, "the source QEMU must have quit: the destination holds the epoch");
        Assert.Equal("running", await rig.Destination.StatusAsync());
        TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
    }

    [RequiresQemuFact]
    public async Task Migrate_RepeatedCuts_AdmissionStopsTheRetriesWithItsReason()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        rig.AddRelay().CutAt = 64 * 1024;

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--retries", "20");

        Assert.True(exit == 1, output);
        int retries = output.Split('\n').Count(line => line.StartsWith("retry vm1", StringComparison.Ordinal));
        Assert.InRange(retries, 1, 19);
        Assert.Matches("result vm1 Refused admission denied it: The .* (retry budget|circuit breaker)", output);
        await rig.AssertSourceRunsAsync();
    }

    private static async Task AssertNothingMovedAsync(LiveMigrationRig rig)
    {
        await rig.AssertSourceRunsAsync();
        Assert.Equal("none", await rig.Source.MigrationStatusAsync());
        Assert.Equal("inmigrate", await rig.Destination.StatusAsync());
        Assert.Equal("none", await rig.Destination.MigrationStatusAsync());
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
