using Microsoft.Extensions.Time.Testing;
using SecureMigration.Admission;
using SecureMigration.Audit;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// An insider (a host with a certificate from the cluster's own CA) sends the destination tickets it has no right to.
/// Defense covered: the destination checks a ticket completely (peer is the source and the registry's owner at the
/// ticket's epoch, the migration is new, the VM is not migrating) before it journals, admits or touches anything.
/// </summary>
public sealed class InsiderTicketTests
{
    [Fact]
    public async Task ReceiveAsync_TicketFromAHostThatDoesNotOwnTheVm_IsRefusedBeforeAnythingIsJournaledOrAdmitted()
    {
        var admission = new AdmissionController(new AdmissionOptions());
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationAdmission: admission);
        MigrationTicket ticket = MigrationTicket.Create(TwoHosts.VmId, "insider.test", hosts.Destination.Id, 1,
            TimeSpan.FromMinutes(1)) with { RegistryId = hosts.RegistryId };

        (MigrationResult? destination, Exception? senderSaw) = await hosts.SendTicketAsync(hosts.InsiderFactory(), ticket);

        Assert.Equal(MigrationStatus.Refused, destination!.Status);
        Assert.Contains("'source.test' holds epoch 1", destination.Reason, StringComparison.Ordinal);
        Assert.Contains("'source.test' holds epoch 1", Assert.IsType<MigrationAbortedException>(senderSaw).Reason,
            StringComparison.Ordinal);
        Assert.Empty(hosts.Destination.Journal.Records);
        Assert.Equal(0, admission.TrackedVms);
        AuditEntry refusal = Assert.Single(hosts.Destination.VerifyAudit().Entries);
        Assert.Equal(("ticket-refused", ticket.MigrationId), (refusal.Event, refusal.MigrationId));
        Assert.Contains("insider.test", refusal.Detail, StringComparison.Ordinal);

        // The VM's rightful owner still migrates it: the refusal held nothing.
        (MigrationResult source, _) = await hosts.MigrateAsync();
        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReceiveAsync_InsiderTicketWhileTheOwnerMigratesTheVm_LeavesTheMigrationInFlightUntouched(bool validateTickets)
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(validateTickets: validateTickets);
        SecureChannelFactory insider = hosts.InsiderFactory();
        MigrationResult? insiderResult = null;
        Exception? insiderSaw = null;
        var attackDuringTransfer = new SynchronousProgress<MigrationProgress>(p =>
        {
            if (p.Phase == MigrationPhase.Transferring && insiderResult is null)
            {
                // The owner's copy is loading here (Incoming): the insider claims the VM now.
                MigrationTicket ticket = MigrationTicket.Create(TwoHosts.VmId, "insider.test", hosts.Destination.Id, 1,
                    TimeSpan.FromMinutes(1)) with { RegistryId = hosts.RegistryId };
                (insiderResult, insiderSaw) = hosts.SendTicketAsync(insider, ticket).GetAwaiter().GetResult();
            }
        });

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync(attackDuringTransfer);

        // Refused for now only, in the handshake or after it (a retry runs every check again, and the owner check then refuses an
        // insider for good): a source that retries too soon after a cut migration is not told to give up.
        Assert.Contains("already migrating", insiderSaw!.Message, StringComparison.Ordinal);
        if (validateTickets)
        {
            Assert.Equal(HandshakeFailureReason.DestinationBusy, Assert.IsType<HandshakeFailedException>(insiderSaw).Reason);
        }
        else
        {
            Assert.Equal(MigrationStatus.Refused, insiderResult!.Status);
            Assert.IsType<MigrationAbortedException>(insiderSaw);
        }
        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
        Assert.All(hosts.Destination.Journal.Records, r => Assert.Equal(source.MigrationId, r.MigrationId));
    }

    [Fact]
    public async Task ReceiveAsync_ReplayedMigrationId_IsRefusedAndTheFinishedMigrationKeepsItsRecords()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync();
        (MigrationResult first, _) = await hosts.MigrateAsync();
        int records = hosts.Destination.Journal.Records.Count;
        // The VM now belongs to the destination; a fresh ticket naming the finished migration's id comes from its old source.
        await hosts.Registry.TryMoveAsync(TwoHosts.VmId, 2, hosts.Destination.Id, hosts.Source.Id, Guid.NewGuid());
        MigrationTicket replay = MigrationTicket.Create(TwoHosts.VmId, hosts.Source.Id, hosts.Destination.Id, 3, TimeSpan.FromMinutes(1),
            migrationId: first.MigrationId);

        (MigrationResult? destination, _) = await hosts.SendTicketAsync(hosts.InsiderFactory("source.test"), replay);

        Assert.Equal(MigrationStatus.Refused, destination!.Status);
        Assert.Contains("already ran", destination.Reason, StringComparison.Ordinal);
        Assert.Equal(records, hosts.Destination.Journal.Records.Count);
        Assert.Equal(MigrationPhase.Completed, hosts.Destination.Journal.Latest(first.MigrationId)!.Phase);
    }

    [Fact]
    public async Task Handshake_WithTheCoordinatorsValidator_RefusesTheInsiderWithATypedReasonAndNoChannel()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(validateTickets: true);
        MigrationTicket ticket = MigrationTicket.Create(TwoHosts.VmId, "insider.test", hosts.Destination.Id, 1,
            TimeSpan.FromMinutes(1)) with { RegistryId = hosts.RegistryId };

        (MigrationResult? destination, Exception? senderSaw) = await hosts.SendTicketAsync(hosts.InsiderFactory(), ticket);

        Assert.Null(destination);
        var refused = Assert.IsType<HandshakeFailedException>(senderSaw);
        Assert.Equal(HandshakeFailureReason.TicketRefused, refused.Reason);
        Assert.Contains("Vetoed", refused.Message, StringComparison.Ordinal);
        // The destination's own reason reaches the sender (bounded and escaped), not only the destination's log.
        Assert.Contains("'source.test' holds epoch 1", refused.Message, StringComparison.Ordinal);
        Assert.Empty(hosts.Destination.Journal.Records);
        AuditEntry audited = Assert.Single(hosts.Destination.VerifyAudit().Entries);
        Assert.Equal("ticket-refused", audited.Event);
        Assert.Contains("'source.test' holds epoch 1", audited.Detail, StringComparison.Ordinal);

        (MigrationResult source, _) = await hosts.MigrateAsync();
        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
    }

    /// <summary>
    /// Issue 16: a source with a registry of its own, whose epoch happens to equal the shared registry's, is refused on both
    /// sides with a reason that names --registry, before anything is journaled.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Migrate_SourceUsesAnotherRegistryWithTheSameEpoch_IsRefusedOnBothSidesNamingTheRegistry(bool validateTickets)
    {
        using var elsewhere = new TempDirectory();
        var privateRegistry = new FileOwnershipRegistry(elsewhere.Path);
        await privateRegistry.RegisterAsync(TwoHosts.VmId, "source.test");
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceRegistry: _ => privateRegistry, validateTickets: validateTickets);

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.NotEqual(MigrationStatus.Completed, source.Status);
        // With the coordinator's validator in the handshake (as secmig and AddSecureMigration install it), the refusal is
        // typed, so it is permanent; without it the destination aborts after the handshake, which the source cannot tell
        // from a passing trouble.
        Assert.Equal(validateTickets, source.IsPermanent);
        Assert.Contains("--registry", source.Reason, StringComparison.Ordinal);
        Assert.Contains(await privateRegistry.GetIdAsync(), source.Reason, StringComparison.Ordinal);
        if (!validateTickets)
        {
            Assert.Equal(MigrationStatus.Refused, destination!.Status);
            Assert.Contains("--registry", destination.Reason, StringComparison.Ordinal);
        }

        AuditEntry audited = Assert.Single(hosts.Destination.VerifyAudit().Entries);
        Assert.Contains("different registries", audited.Detail, StringComparison.Ordinal);
        Assert.Empty(hosts.Destination.Journal.Records);
        Assert.Equal(1, (await hosts.Registry.GetAsync(TwoHosts.VmId))!.Epoch);
    }

    [Fact]
    public async Task ReceiveAsync_ManyRefusalsFromOnePeer_LogFewLinesButAuditEach()
    {
        var logged = new List<string>();
        // The clock stands still, so the peer's allowance of log lines never refills during the test.
        var destinationOptions = new CoordinatorOptions { TimeProvider = new FakeTimeProvider(DateTimeOffset.UtcNow) };
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationOptions: destinationOptions,
            destinationLogger: new ListLoggerFactory(logged));
        SecureChannelFactory insider = hosts.InsiderFactory();

        for (int i = 0; i < 20; i++)
        {
            MigrationTicket ticket = MigrationTicket.Create(TwoHosts.VmId, "insider.test", hosts.Destination.Id, 1,
                TimeSpan.FromMinutes(1)) with { RegistryId = hosts.RegistryId };
            (MigrationResult? destination, _) = await hosts.SendTicketAsync(insider, ticket);
            Assert.Equal(MigrationStatus.Refused, destination!.Status);
        }

        Assert.Equal(20, hosts.Destination.VerifyAudit().Entries.Count(e => e.Event == "ticket-refused"));
        Assert.Equal(6, logged.Count(l => l.Contains("was refused before anything was done", StringComparison.Ordinal)));
    }
}
