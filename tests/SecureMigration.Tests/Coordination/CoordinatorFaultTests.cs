using Microsoft.Extensions.Time.Testing;
using SecureMigration.Cli.Cluster;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Tests.Coordination;

/// <summary>A network attacker and misbehaving hooks against a coordinated migration: each run ends in one of the two stable states, with
/// the reason recorded.</summary>
public sealed class CoordinatorFaultTests
{
    private static CoordinatorOptions Fast() => new() { StallTimeout = TimeSpan.FromMilliseconds(500),
        CommitTimeout = TimeSpan.FromSeconds(1), HookTimeout = TimeSpan.FromMilliseconds(300) };

    /// <summary>Offsets from the handshake's end to the end of a 4 MiB stream: fixed ones, and random ones from a fixed seed.</summary>
    public static TheoryData<long> CutOffsets()
    {
        var random = new Random(2026_11_27);
        return [20_000, 300_000, 1_500_000, 3_900_000, .. Enumerable.Range(0, 4).Select(_ => random.NextInt64(10_000, TwoHosts.VmSize))];
    }

    [Theory]
    [MemberData(nameof(CutOffsets))]
    public async Task MigrateAsync_ConnectionCutInsideTheStream_RollsBackToTheSource(long offset)
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(Fast(), Fast(), withRelay: true);
        hosts.Relay!.CutAt = offset;

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.False(string.IsNullOrEmpty(source.Reason));
        Assert.NotEqual(MigrationStatus.Completed, destination?.Status);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
        Assert.Contains(hosts.Source.Journal.Records, r => r.Phase == MigrationPhase.RollingBack && !string.IsNullOrEmpty(r.Reason));
    }

    [Fact]
    public async Task MigrateAsync_FlippedByteOnTheWire_IsDetectedAndRollsBack()
    {
        await using TwoHosts hosts = await TwoHosts.CreateAsync(Fast(), Fast(), withRelay: true);
        hosts.Relay!.FlipAt = 1_000_000;

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(MigrationStatus.RolledBack, destination!.Status);
        // The AEAD caught it (not the digest at the end, nor a timeout): the record with the flipped byte was refused.
        Assert.Contains("A record failed authentication", destination.Reason, StringComparison.Ordinal);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    /// <summary>The stall bound runs on the injected clock: the stall is declared only when the test moves time, never by a slow
    /// machine.</summary>
    [Fact]
    public async Task MigrateAsync_StalledStream_TimesOutOnTheInjectedClockAndRollsBack()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        CoordinatorOptions OnTheClock() => new() { StallTimeout = TimeSpan.FromHours(1), CommitTimeout = TimeSpan.FromHours(1),
            TimeProvider = clock };
        await using TwoHosts hosts = await TwoHosts.CreateAsync(OnTheClock(), OnTheClock(), withRelay: true);
        hosts.Relay!.StallAt = 2_000_000;

        Task<(MigrationResult Source, MigrationResult? Destination)> migration = hosts.MigrateAsync();
        await hosts.Relay.Stalled;
        // Bytes already past the relay may still be draining; each step is a full stall bound for a side that has moved
        // nothing since its last step, and the sides end only by it (nothing else bounds the wait in an hour of real time).
        // A bound on the steps (20 s of real time at most, room for a loaded machine, far under the hour) fails the test if
        // the wire's watchdog ignored the injected clock.
        for (int step = 0; !migration.IsCompleted; step++)
        {
            Assert.True(step < 1000, "the stall was not declared on the injected clock");
            clock.Advance(TimeSpan.FromHours(1));
            await Task.WhenAny(migration, Task.Delay(TimeSpan.FromMilliseconds(20)));
        }

        (MigrationResult source, MigrationResult? destination) = await migration;

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(MigrationStatus.RolledBack, destination!.Status);
        Assert.Contains("nothing moved", destination.Reason, StringComparison.Ordinal);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task MigrateAsync_FinalAcknowledgementDropped_SourceAsksTheRegistryAndRollsForward()
    {
        TwoHosts? staged = null;
        await using TwoHosts hosts = staged = await TwoHosts.CreateAsync(Fast(), Fast(), withRelay: true,
            destinationRegistry: registry => new AfterCommitRegistry(registry)
            {
                AfterNextMove = _ =>
                {
                    staged!.Relay!.DropFromDestination();
                    return ValueTask.CompletedTask;
                },
            });

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.True(source.Status == MigrationStatus.Completed, source.Reason);
        Assert.Equal(MigrationStatus.Completed, destination!.Status);
        Assert.Equal(hosts.Destination.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task MigrateAsync_DestinationPostHookRefusesTheCommit_RollsBackWithTheHooksReason()
    {
        CoordinatorOptions destinationOptions = Fast();
        destinationOptions.PostMigrateHooks.Add(new DelegateHook("verify-image", (_, _) => Task.FromResult(HookVerdict.Veto("the guest " +
            "agent did not answer"))));
        await using TwoHosts hosts = await TwoHosts.CreateAsync(Fast(), destinationOptions);

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Contains("the guest agent did not answer", source.Reason, StringComparison.Ordinal);
        Assert.Equal(MigrationStatus.RolledBack, destination!.Status);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task MigrateAsync_SourcePostHookVetoesAfterVerification_RollsBackBothSides()
    {
        CoordinatorOptions sourceOptions = Fast();
        var hook = new DelegateHook("last-look", (_, _) => Task.FromResult(HookVerdict.Veto("maintenance window closed")));
        sourceOptions.PostMigrateHooks.Add(hook);
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceOptions, Fast());

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(MigrationStatus.RolledBack, destination!.Status);
        Assert.Contains("maintenance window closed", destination.Reason, StringComparison.Ordinal);
        Assert.Equal(HookStage.PostMigrate, Assert.Single(hook.Calls).Stage);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task MigrateAsync_PreHookThatHangs_CountsAsAVetoAfterItsTimeout()
    {
        CoordinatorOptions sourceOptions = Fast();
        sourceOptions.PreMigrateHooks.Add(new DelegateHook("hangs", async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return HookVerdict.Allow;
        }));
        await using TwoHosts hosts = await TwoHosts.CreateAsync(sourceOptions, Fast());

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Contains("'hangs' did not answer", source.Reason, StringComparison.Ordinal);
        Assert.Null(destination);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task ReceiveAsync_EpochMovedAfterTheTicketWasIssued_IsRefusedBeforeAnyByteMoves()
    {
        CoordinatorOptions sourceOptions = Fast();
        TwoHosts? staged = null;
        // Another orchestrator bumps the epoch while the source runs its pre-hooks: the ticket it then sends is stale.
        sourceOptions.PreMigrateHooks.Add(new DelegateHook("concurrent-change", async (context, _) =>
        {
            await staged!.Registry.TryMoveAsync(context.VmId, context.Epoch, context.SourceHost, context.SourceHost, Guid.NewGuid());
            return HookVerdict.Allow;
        }));
        await using TwoHosts hosts = staged = await TwoHosts.CreateAsync(sourceOptions, Fast());

        (MigrationResult source, MigrationResult? destination) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.RolledBack, source.Status);
        Assert.Equal(MigrationStatus.Refused, destination!.Status);
        Assert.Contains("epoch", destination.Reason, StringComparison.Ordinal);
        Assert.Equal(0, destination.Bytes);
        Assert.Empty(hosts.Destination.Journal.Records);
        Assert.Equal(hosts.Source.Id, await hosts.AssertOneRunnableCopyAsync());
    }

    [Fact]
    public async Task MigrateAsync_RegistryRecordHandingTheVmToAnInsider_KeepsTheSourceCopyAndIsInDoubt()
    {
        // Defense (issue 14, residual insider): a host that can write the registry hands the VM to itself while the
        // source migrates. Only the source could have released the VM, so it destroys nothing on that record's word.
        CoordinatorOptions sourceOptions = Fast();
        TwoHosts? staged = null;
        sourceOptions.PreMigrateHooks.Add(new DelegateHook("insider", async (context, _) =>
        {
            await staged!.Registry.TryMoveAsync(context.VmId, context.Epoch, context.SourceHost, "insider.test", Guid.NewGuid());
            return HookVerdict.Allow;
        }));
        await using TwoHosts hosts = staged = await TwoHosts.CreateAsync(sourceOptions, Fast());

        var doubt = await Assert.ThrowsAsync<MigrationInDoubtException>(async () => await hosts.MigrateAsync());

        Assert.Contains("'insider.test' holds epoch 2", doubt.Message, StringComparison.Ordinal);
        Assert.Contains("nothing is destroyed", doubt.Message, StringComparison.Ordinal);
        // Before, the source took its copy for stale and discarded it: the VM was gone from every host.
        Assert.Equal(VmRunState.Running, (await hosts.Source.Driver.QueryAsync(TwoHosts.VmId)).State);
    }
}
