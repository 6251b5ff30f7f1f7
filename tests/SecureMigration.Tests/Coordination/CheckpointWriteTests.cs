using SecureMigration.Audit;
using SecureMigration.Coordination;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Audit;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// Issue 19: what a checkpoint waits for. A phase's audit entry is written behind the journal (ADR 0025), in order, and a
/// migration returns only once its entries are written; the destination's first checkpoints go to the journal in one write
/// when no hook runs between them.
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
    public async Task ReceiveAsync_NoPreMigrateHook_JournalsChannelOpenAdmittedAndPreHooksDoneWithOneWrite()
    {
        RecordingJournal? journal = null;
        await using TwoHosts hosts = await TwoHosts.CreateAsync(destinationJournal: inner => journal = new RecordingJournal(inner));

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.Completed, source.Status);
        Assert.Equal([MigrationPhase.ChannelOpen, MigrationPhase.Admitted, MigrationPhase.PreHooksDone], journal!.Writes[0]);
        Assert.Equal([MigrationPhase.Transferring], journal.Writes[1]);
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
            destinationJournal: inner => journal = new RecordingJournal(inner));

        (MigrationResult source, _) = await hosts.MigrateAsync();

        Assert.Equal(MigrationStatus.Completed, source.Status);
        Assert.Equal([[MigrationPhase.ChannelOpen, MigrationPhase.Admitted]], writesWhenTheHookRan);
        Assert.Equal([MigrationPhase.PreHooksDone], journal!.Writes[1]);
    }
}
