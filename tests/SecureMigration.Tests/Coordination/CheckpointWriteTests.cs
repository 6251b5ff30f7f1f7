using SecureMigration.Audit;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Audit;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Issue 19: what a checkpoint waits for. A phase's audit entry is written behind the journal (ADR 0025), in order, and a
/// migration returns only once its entries are written; checkpoints between which no hook runs go to the journal in one
/// write, and the source writes ChannelOpen while the destination readies.
/// </summary>
public sealed class CheckpointWriteTests
{
    [Fact]
    public async Task ReceiveAsync_AuditSlowToWrite_PhasesGoOnAndEveryEntryIsWrittenInOrderBeforeTheResult()
    {
        HeldAuditSink? held = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationAudit: audit => held = new HeldAuditSink(audit));
        held!.Hold();
        var completed = new PhaseReached(MigrationPhase.Completed);

        Task<(MigrationResult Source, MigrationResult? Destination)> migrating = hosts.MigrateAsync(completed);
        await completed.Reached.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Single(held.Asked); // the first entry still waits for the disk, and the migration went on to its end
        Assert.False(migrating.IsCompleted);
        held.Release();
        (MigrationResult source, MigrationResult? destination) = await migrating;
        Assert.Equal((MigrationStatus.Completed, MigrationStatus.Completed), (source.Status, destination?.Status));
        AuditVerification audit = hosts.Destination.VerifyAudit();
        Assert.True(audit.IsIntact);
        string[] phases = [.. hosts.Destination.Journal.Records.Where(r => r.MigrationId == destination!.MigrationId)
            .Select(r => r.Phase.ToString())];
        Assert.Equal(phases, audit.Entries.Where(e => e.MigrationId == destination!.MigrationId).Select(e => e.Event));
    }

    [Fact]
    public async Task MigrateAsync_NoPreMigrateHook_JournalsTheCheckpointsAroundTheHooksWithOneWriteOnEachSide()
    {
        var journals = new Dictionary<string, RecordingJournal>();
        await using TwoHosts hosts = await TwoHosts.CreateAsync(journals: (host, inner) => journals[host] = new RecordingJournal(inner));

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.Completed, source.Status);
        Assert.Equal([MigrationPhase.Admitted], journals["source.test"].Writes[0]);
        Assert.Equal([MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone], journals["source.test"].Writes[1]);
        Assert.Equal([MigrationPhase.ChannelOpen], journals["source.test"].Writes[2]);
        Assert.Equal([MigrationPhase.ChannelOpen, MigrationPhase.Admitted, MigrationPhase.PreHooksDone],
            journals["destination.test"].Writes[0]);
        Assert.Equal([MigrationPhase.Transferring], journals["destination.test"].Writes[1]);
        JournalRecord[] records = [.. hosts.Source.Journal.Records.Where(r => r.MigrationId == source.MigrationId)];
        Assert.Equal((MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone), (records[1].Phase, records[2].Phase));
        Assert.NotNull(records[1].Snapshot);
        Assert.Equal(records[1].Snapshot, records[2].Snapshot); // the snapshot travels on, as with two writes
    }

    [Fact]
    public async Task ReceiveAsync_PreMigrateHook_RunsAfterAdmittedIsDurableAndBeforePreHooksDone()
    {
        RecordingJournal? journal = null;
        IReadOnlyList<MigrationPhase[]>? writesWhenTheHookRan = null;
        var options = new CoordinatorOptions();
        options.PreMigrateHooks.Add(new DelegateHook("look", (_, _) =>
        {
            writesWhenTheHookRan = journal!.Writes;
            return Task.FromResult(HookVerdict.Allow);
        }));
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationOptions: options,
            journals: (host, inner) => host == "destination.test" ? journal = new RecordingJournal(inner) : inner);

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.Completed, source.Status);
        Assert.Equal([[MigrationPhase.ChannelOpen, MigrationPhase.Admitted]], writesWhenTheHookRan);
        Assert.Equal([MigrationPhase.PreHooksDone], journal!.Writes[1]);
    }

    [Fact]
    public async Task MigrateAsync_SourcesSwitchingOverSlowToWrite_TheDestinationVerifiesMeanwhileAndNothingCommitsBeforeIt()
    {
        RecordingJournal? journal = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(journals: (host, inner) =>
            host == "source.test" ? journal = new RecordingJournal(inner) { HoldAt = MigrationPhase.SwitchingOver } : inner);
        var verifying = new PhaseReached(MigrationPhase.SwitchingOver);

        Task<(MigrationResult Source, MigrationResult? Destination)> migrating = hosts.MigrateAsync(verifying);
        await journal!.Held.WaitAsync(TimeSpan.FromMinutes(1));
        await verifying.Reached.WaitAsync(TimeSpan.FromMinutes(1)); // the stream's end went out before the checkpoint was durable

        Assert.Equal("source.test", (await hosts.Registry.GetAsync(TwoHosts.VmId))!.Owner);
        Assert.DoesNotContain(hosts.Destination.Journal.Records, r => r.Phase == MigrationPhase.Committed);
        journal.Release();
        (MigrationResult source, MigrationResult? destination) = await migrating;
        Assert.Equal((MigrationStatus.Completed, MigrationStatus.Completed), (source.Status, destination?.Status));
    }

    [Fact]
    public async Task ReceiveAsync_DestinationsSwitchingOverSlowToWrite_TheRegistryMovesOnlyAfterIt()
    {
        RecordingJournal? journal = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(journals: (host, inner) =>
            host == "destination.test" ? journal = new RecordingJournal(inner) { HoldAt = MigrationPhase.SwitchingOver } : inner);

        Task<(MigrationResult Source, MigrationResult? Destination)> migrating = hosts.MigrateAsync();
        await journal!.Held.WaitAsync(TimeSpan.FromMinutes(1));

        // Fails if the swap is moved before the checkpoint is asked for. A swap that merely stopped waiting for the write
        // would come after the source's Commit, which may still be on its way here: that order is kept by
        // WhileCheckpointingAsync and shown deterministically on the source's side (the test above).
        Assert.Equal("source.test", (await hosts.Registry.GetAsync(TwoHosts.VmId))!.Owner);
        journal.Release();
        (MigrationResult source, MigrationResult? destination) = await migrating;
        Assert.Equal((MigrationStatus.Completed, MigrationStatus.Completed), (source.Status, destination?.Status));
        Assert.Equal("destination.test", (await hosts.Registry.GetAsync(TwoHosts.VmId))!.Owner);
    }
}
