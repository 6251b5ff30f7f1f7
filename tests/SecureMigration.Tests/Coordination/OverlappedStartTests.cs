using SecureMigration.Coordination;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Qemu;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// The fixed cost before a migration's first byte: work that only reads, or changes nothing a rollback must undo, runs
/// while the other end works; its failure still ends the migration in a stable state.
/// </summary>
public sealed class OverlappedStartTests
{
    /// <summary>The destination holds its migration at ChannelOpen until the source's hypervisor began its preparation: a source
    /// that prepared only once the destination was ready (after ChannelOpen) would leave it waiting for good.</summary>
    [Fact]
    public async Task MigrateAsync_SourceHypervisorPreparesWhileTheChannelOpens()
    {
        var preparing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool preparedBeforeDestinationWentOn = false;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceDriver: driver => new PreparingDriver(driver, _ =>
        {
            preparing.TrySetResult();
            return Task.CompletedTask;
        }));
        var holdAtChannelOpen = new SynchronousProgress<MigrationProgress>(p =>
        {
            if (p.Phase == MigrationPhase.ChannelOpen && p.Bytes == 0)
            {
                preparedBeforeDestinationWentOn |= preparing.Task.Wait(TimeSpan.FromSeconds(30));
            }
        });

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync(holdAtChannelOpen);

        Assert.True(preparedBeforeDestinationWentOn);
        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
    }

    [Fact]
    public async Task MigrateAsync_SourceHypervisorRefusesItsPreparation_RollsBackAndTheVmRunsOnTheSource()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceDriver: driver => new PreparingDriver(driver,
            _ => throw new QemuVmException(TwoHosts.VmId, "the guest paused itself")));

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Contains("the guest paused itself", source.Reason, StringComparison.Ordinal);
        Assert.NotEqual(MigrationStatus.Completed, destination?.Status);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
        Assert.DoesNotContain(hosts.Source.Journal.Records, r => r.Phase == MigrationPhase.Transferring);
    }

    /// <summary>A ticket the destination's validator accepted in its handshake is not read against the registry again when the
    /// migration starts; the commit's compare-and-swap checks the record once more.</summary>
    [Fact]
    public async Task ReceiveAsync_TicketAcceptedInItsHandshake_ReadsTheRegistryOnce()
    {
        ReadCountingRegistry? counting = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(validateTickets: true,
            destinationRegistry: inner => counting = new ReadCountingRegistry(inner));

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
        Assert.Equal(1, counting!.Reads);
    }

    /// <summary>The destination's check of a ticket asks its hypervisor about the VM while the registry answers: its registry reads
    /// wait here until the hypervisor was asked, which a check that asked the hypervisor only after the registry never does.
    /// </summary>
    [Fact]
    public async Task ReceiveAsync_TicketCheck_AsksTheHypervisorWhileTheRegistryAnswers()
    {
        var queried = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool? queriedBeforeTheRegistryAnswered = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(validateTickets: true,
            destinationDriver: driver => new QuerySignallingDriver(driver, queried),
            destinationRegistry: inner => new GatedReadRegistry(inner, async () =>
            {
                if (queriedBeforeTheRegistryAnswered is null)
                {
                    await Task.WhenAny(queried.Task, Task.Delay(TimeSpan.FromSeconds(30)));
                    queriedBeforeTheRegistryAnswered = queried.Task.IsCompleted;
                }
            }));

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.True(queriedBeforeTheRegistryAnswered);
        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
    }

    /// <summary>Without hooks the destination's hypervisor checks the VM with the ticket, before anything is journaled (no record
    /// of the migration exists when the check runs), and the migration does not ask it again; checked the same whether the ticket
    /// was checked in its handshake or when the migration starts.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReceiveAsync_DestinationHypervisorChecksWithTheTicket_OnceAndBeforeTheFirstCheckpoint(bool validateTickets)
    {
        CheckingDriver? driver = null;
        bool? journaledBeforeTheCheck = null;
        TwoHosts? created = null;
        await using TwoHosts hosts = created = await TwoHosts.CreateAsync(validateTickets: validateTickets,
            destinationDriver: inner => driver = new CheckingDriver(inner, _ =>
            {
                journaledBeforeTheCheck ??= created!.Destination.Journal.Records.Any(r => r.VmId == TwoHosts.VmId);
                return Task.CompletedTask;
            }));

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
        Assert.Equal(1, driver!.Checks);
        Assert.False(journaledBeforeTheCheck);
    }

    /// <summary>A destination whose hypervisor refuses the VM refuses the ticket as busy (only for now: a retry may find it ready):
    /// nothing is journaled or prepared there, the source may retry, and the VM runs on the source.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReceiveAsync_DestinationHypervisorRefusesItsCheck_RefusesTheTicketForNowAndTheVmRunsOnTheSource(bool validateTickets)
    {
        CheckingDriver? driver = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(validateTickets: validateTickets,
            destinationDriver: inner => driver = new CheckingDriver(inner,
                _ => throw new QemuVmException(TwoHosts.VmId, "the destination QEMU already runs a guest")));

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Contains("already runs a guest", validateTickets ? source.Reason : destination!.Reason, StringComparison.Ordinal);
        Assert.False(source.IsPermanent);
        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.False(driver!.Prepared);
        Assert.DoesNotContain(hosts.Destination.Journal.Records, r => r.VmId == TwoHosts.VmId);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
        Assert.DoesNotContain(hosts.Source.Journal.Records, r => r.Phase == MigrationPhase.Transferring);
    }

    /// <summary>A pre-migrate hook may start or replace the destination's QEMU: with hooks, the destination does not check its
    /// hypervisor ahead (the preparation checks, after them).</summary>
    [Fact]
    public async Task ReceiveAsync_WithAPreMigrateHook_DoesNotCheckTheHypervisorAhead()
    {
        bool checkedAhead = false;
        var options = new CoordinatorOptions();
        options.PreMigrateHooks.Add(new DelegateHook("start-qemu", (_, _) => Task.FromResult(HookVerdict.Allow)));
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationOptions: options,
            destinationDriver: inner => new CheckingDriver(inner, _ =>
            {
                checkedAhead = true;
                return Task.CompletedTask;
            }));

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
        Assert.False(checkedAhead);
    }
}
