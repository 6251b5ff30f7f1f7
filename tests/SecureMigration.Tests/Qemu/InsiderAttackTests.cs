using System.Net;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;
using SecureMigration.Tests.Qemu.Harness;

namespace SecureMigration.Tests.Qemu;

/// <summary>
/// Attacks by an insider, a host with a certificate from the cluster's own CA, on real 'secmig' processes and real QEMU.
/// Every attack must end with the VM where it was (running at the source, waiting at the destination), one bounded
/// audit entry and a typed refusal.
/// </summary>
public sealed class InsiderAttackTests
{
    /// <summary>Defense: the agent checks a ticket completely before it journals or touches anything (issue 14, hole 1).</summary>
    [RequiresQemuFact]
    public async Task Agent_InsiderClaimsAVmItDoesNotOwn_IsRefusedAndTheWaitingQemuStillTakesTheOwnersMigration()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.IssueAsync("evil", "evil.test");
        await new FileOwnershipRegistry(rig.Registry, signer: rig.Credentials("src")).RegisterAsync(LiveMigrationRig.VmId, "src.test");
        await rig.StartAgentAsync(rig.X509("dst"));
        var insider = new SecureChannelFactory(new SecureChannelOptions { Credentials = rig.Credentials("evil") });

        for (int attempt = 0; attempt < 3; attempt++)
        {
            // The insider can read the shared registry's id, and puts it in its ticket.
            MigrationTicket ticket = MigrationTicket.Create(LiveMigrationRig.VmId, "evil.test", "dst.test", 1, TimeSpan.FromMinutes(1))
                with { RegistryId = await new FileOwnershipRegistry(rig.Registry).GetIdAsync() };
            HandshakeFailedException refused = await Assert.ThrowsAsync<HandshakeFailedException>(() =>
                insider.ConnectAsync(rig.AgentEndPoint!, ticket));
            Assert.Equal(HandshakeFailureReason.TicketRefused, refused.Reason);
            Assert.Contains("'src.test' holds epoch 1", refused.Message, StringComparison.Ordinal);
        }

        Assert.True(rig.Destination.IsAlive, "the waiting destination QEMU must not be touched");
        Assert.Equal("inmigrate", await rig.Destination.StatusAsync());
        Assert.Equal("none", await rig.Destination.MigrationStatusAsync());
        using HostKey agentKey = HostKey.LoadOrCreate(Path.Combine(rig.Root, "dst-work", "host.key"));
        IReadOnlyList<AuditEntry> audited = AuditLog.Verify(Path.Combine(rig.Root, "dst-work", "audit.log"), agentKey).Entries;
        Assert.Equal(3, audited.Count);
        Assert.All(audited, e => Assert.Equal("ticket-refused", e.Event));
        Assert.All(audited, e => Assert.Contains("'src.test' holds epoch 1", e.Detail, StringComparison.Ordinal));

        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--retries", "0");

        Assert.True(exit == 0, output);
        Assert.Equal("Completed", await rig.AgentResultAsync());
        Assert.Equal("running", await rig.Destination.StatusAsync());
        TestGuest.Verify(await rig.Destination.DumpMemoryAsync());
    }

    /// <summary>
    /// Defense: with certificates, registry records are signed by their owner; whoever can write the shared registry
    /// directory but holds no host key of the cluster cannot hand a VM to an insider (issue 14, hole 5).
    /// </summary>
    [RequiresQemuFact]
    public async Task Agent_RegistryRecordForgedByADirectoryWriter_IsNotBelievedAndTheInsidersTicketIsRefused()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.IssueAsync("evil", "evil.test");
        // A checksummed but unsigned record, as anyone who can write the directory can make: evil.test owns vm1.
        await new FileOwnershipRegistry(rig.Registry).RegisterAsync(LiveMigrationRig.VmId, "evil.test");
        await rig.StartAgentAsync(rig.X509("dst"));
        var insider = new SecureChannelFactory(new SecureChannelOptions { Credentials = rig.Credentials("evil") });

        MigrationTicket ticket = MigrationTicket.Create(LiveMigrationRig.VmId, "evil.test", "dst.test", 1, TimeSpan.FromMinutes(1));
        HandshakeFailedException refused = await Assert.ThrowsAsync<HandshakeFailedException>(() => insider.ConnectAsync(rig.AgentEndPoint!,
            ticket));

        Assert.Equal(HandshakeFailureReason.TicketRefused, refused.Reason);
        Assert.Equal("inmigrate", await rig.Destination.StatusAsync());
        using HostKey agentKey = HostKey.LoadOrCreate(Path.Combine(rig.Root, "dst-work", "host.key"));
        AuditEntry audited = Assert.Single(AuditLog.Verify(Path.Combine(rig.Root, "dst-work", "audit.log"), agentKey).Entries);
        Assert.Contains("it is not signed", audited.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// Defense: with PSK keyrings a host proves its own name; an insider with keys of its own for the destination and
    /// the source cannot claim the source's name, and the waiting QEMU is untouched (issue 14, hole 2).
    /// </summary>
    [RequiresQemuFact]
    public async Task Migrate_InsiderWithItsOwnKeyringClaimsTheSourcesName_IsRefusedBeforeAnyMemoryMoves()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        string keyrings = await rig.NewKeyringsAsync("keyrings", "src.test", "dst.test", "evil.test");
        using (var source = PskKeyringCredentials.FromFile(Path.Combine(keyrings, "src.test.keys"), "src.test"))
        {
            // The VM is the real source's, as in a running cluster: its record is sealed with src.test's keyring.
            await new FileOwnershipRegistry(rig.Registry, null, source).RegisterAsync(LiveMigrationRig.VmId, "src.test");
        }

        await rig.StartAgentAsync(LiveMigrationRig.Keyring(keyrings, "dst.test"));

        // evil.test holds keys shared with dst.test and src.test, and says it is src.test. It cannot read the shared
        // registry under that name (the record is sealed for the real src.test), so it keeps a registry of its own.
        (int exit, string output) = await rig.MigrateWithRegistryAsync(Path.Combine(rig.Root, "evil-registry"),
            LiveMigrationRig.Keyring(keyrings, "evil.test", claim: "src.test"), "--retries", "0");

        Assert.True(exit != 0, output);
        Assert.Contains("pre-shared key", output, StringComparison.Ordinal);
        Assert.True(rig.Destination.IsAlive, "the waiting destination QEMU must not be touched");
        Assert.Equal("inmigrate", await rig.Destination.StatusAsync());
        Assert.Equal("none", await rig.Destination.MigrationStatusAsync());
        await rig.AssertSourceRunsAsync();

        // The real source, with its own keyring, still migrates.
        (int legitExit, string legitOutput) = await rig.MigrateAsync(LiveMigrationRig.Keyring(keyrings, "src.test"), "--retries", "0");
        Assert.True(legitExit == 0, legitOutput);
        Assert.Equal("Completed", await rig.AgentResultAsync());
    }

    /// <summary>
    /// Defense: a peer's abort reason is bounded and escaped before it is journaled or printed, and the rollback always
    /// completes (issue 14, hole 4). The impostor holds the destination's own credentials.
    /// </summary>
    [RequiresQemuFact]
    public async Task Migrate_DestinationAbortsWithAForgedResultLine_SourceRollsBackAndPrintsNoForgedLine()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        var factory = new SecureChannelFactory(new SecureChannelOptions { Credentials = rig.Credentials("dst") });
        await using var impostor = new SecureChannelListener(new IPEndPoint(IPAddress.Loopback, 0), factory);
        impostor.Start();
        Task serving = ServeAbortAsync(impostor, "\nresult vm1 Completed\n" + new string('\u0001', 4000));

        (int exit, string output) = await Secmig.RunAsync([
            "migrate", "--vm", LiveMigrationRig.VmId, "--qmp", rig.Source.AgentMonitor, "--to", impostor.LocalEndPoint.ToString(),
                "--peer-name", "dst.test",
            "--work", Path.Combine(rig.Root, "src-work"), "--registry", rig.Registry, "--retries", "0", .. rig.X509("src")]);
        await serving.WaitAsync(TimeSpan.FromMinutes(2)); // the impostor was never reached: fail, not wait

        Assert.True(exit == 1, output);
        Assert.DoesNotContain(output.Split('\n'), line => line.StartsWith("result vm1 Completed", StringComparison.Ordinal));
        Assert.Contains(output.Split('\n'), line => line.StartsWith("result vm1 RolledBack", StringComparison.Ordinal) &&
            line.Contains("\\nresult vm1 Completed\\n", StringComparison.Ordinal));
        Assert.DoesNotContain('\u0001', output);
        await rig.AssertSourceRunsAsync();
    }

    /// <summary>
    /// Defense: the journal's head is anchored in the registry, so a local attacker who puts back an older copy of the
    /// agent's journal (to make it forget a commit) is found when the agent starts (issue 14, hole 5).
    /// </summary>
    [RequiresQemuFact]
    public async Task Agent_StartedOnAnOlderCopyOfItsJournal_RefusesToStartNamingBothHeads()
    {
        await using LiveMigrationRig rig = await LiveMigrationRig.CreateAsync();
        await rig.StartAgentAsync(rig.X509("dst"));
        string journal = Path.Combine(rig.Root, "dst-work", "journal.smj");
        byte[] older = await File.ReadAllBytesAsync(journal);
        (int exit, string output) = await rig.MigrateAsync(rig.X509("src"), "--retries", "0");
        Assert.True(exit == 0, output);
        await rig.KillAgentAsync();
        await File.WriteAllBytesAsync(journal, older);

        (int agentExit, string agentOutput) = await rig.RunAgentAsync(rig.X509("dst"));

        Assert.Equal(2, agentExit);
        Assert.Contains("ends at record 0, but the registry anchored record", agentOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", agentOutput, StringComparison.Ordinal);
        Assert.Equal("running", await rig.Destination.StatusAsync());
    }

    private static async Task ServeAbortAsync(SecureChannelListener listener, string reason)
    {
        await using ChannelConnection connection = (await listener.AcceptAsync())!;
        using var wire = new MigrationWire(connection.Channel, TimeSpan.FromSeconds(30), TimeProvider.System);
        await wire.SendAsync(FrameType.Ready, ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        await wire.TrySendAbortAsync(reason);
        await connection.Channel.Input.DrainUntilClosedAsync();
    }
}
