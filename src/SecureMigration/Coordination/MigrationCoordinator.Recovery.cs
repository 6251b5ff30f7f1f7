using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;

namespace SecureMigration.Coordination;

/// <summary>Finishing the migrations a crash interrupted.</summary>
public sealed partial class MigrationCoordinator
{
    /// <summary>
    /// Finishes every migration the journal shows unfinished, deterministically: what was committed (per the journal or
    /// the ownership registry) rolls forward, everything else rolls back, and a source whose commit request may have
    /// been seen waits for the registry rather than guess. Call it on start, before new migrations; running it twice
    /// changes nothing the second time.
    /// </summary>
    /// <param name="cancellationToken">Cancels recovery between migrations.</param>
    /// <returns>What was done with each unfinished migration.</returns>
    /// <exception cref="JournalRolledBackException">
    /// The registry (an <see cref="IJournalAnchor"/>) anchored a later head than the journal holds: the journal was replaced
    /// by an older copy, and nothing is recovered on its word.
    /// </exception>
    public async Task<IReadOnlyList<RecoveredMigration>> RecoverAsync(CancellationToken cancellationToken = default)
    {
        await CheckJournalAnchorAsync(cancellationToken).ConfigureAwait(false);
        HashSet<Guid> mayHavePrepared = MayHavePrepared();
        var recovered = new List<RecoveredMigration>();
        foreach (JournalRecord latest in _journal.LatestRecords.Where(r => !MigrationStateMachine.IsFinal(r.Phase)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            recovered.Add(await RecoverOneAsync(latest, mayHavePrepared).ConfigureAwait(false));
        }

        await SettledAsync().ConfigureAwait(false);
        return recovered;
    }

    /// <summary>
    /// Finishes one migration the journal shows unfinished, as <see cref="RecoverAsync(CancellationToken)"/> does for all of them: for a
    /// long-running host whose migration ended in doubt (the registry out of reach), once the registry answers again. Migrations
    /// running now are not touched; call it only for one that has ended here.
    /// </summary>
    /// <param name="migrationId">The migration.</param>
    /// <param name="cancellationToken">Cancels before recovery starts.</param>
    /// <returns>What was done, or <see langword="null"/> when the journal shows the migration finished (or never saw it).</returns>
    /// <exception cref="JournalRolledBackException">The journal was replaced by an older copy; nothing is recovered on its word.
    /// </exception>
    public async Task<RecoveredMigration?> RecoverAsync(Guid migrationId, CancellationToken cancellationToken = default)
    {
        await CheckJournalAnchorAsync(cancellationToken).ConfigureAwait(false);
        JournalRecord? latest = _journal.LatestRecords.FirstOrDefault(r => r.MigrationId == migrationId);
        if (latest is null || MigrationStateMachine.IsFinal(latest.Phase))
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        RecoveredMigration outcome = await RecoverOneAsync(latest, MayHavePrepared()).ConfigureAwait(false);
        await SettledAsync().ConfigureAwait(false);
        return outcome;
    }

    private async Task CheckJournalAnchorAsync(CancellationToken cancellationToken)
    {
        if (_anchor is not null)
        {
            JournalHead head = _journal.Head;
            if (await _anchor.GetHeadAsync(AnchorName, cancellationToken).ConfigureAwait(false) is { } anchored &&
                (anchored.Sequence > head.Sequence
                    || (anchored.Sequence == head.Sequence && !string.Equals(anchored.Mac, head.Mac, StringComparison.Ordinal))))
            {
                throw new JournalRolledBackException(_journal.Name, head, anchored);
            }

            AnchorJournal();
        }
    }

    /// <summary>A destination prepares its copy right after PreHooksDone: from there on, a copy of the VM here may be this migration's
    /// own (its ticket passed before anything was journaled), and rolling back destroys it.</summary>
    private HashSet<Guid> MayHavePrepared() => _journal.Records
        .Where(r => r.Role == MigrationRole.Destination && r.Phase == MigrationPhase.PreHooksDone)
        .Select(r => r.MigrationId).ToHashSet();

    private async Task<RecoveredMigration> RecoverOneAsync(JournalRecord latest, HashSet<Guid> mayHavePrepared)
    {
        var run = new MigrationRun(latest, progress: null)
        {
            Journaled = true,
            Prepared = mayHavePrepared.Contains(latest.MigrationId),
            // The journal cannot say whether a source in SwitchingOver sent Commit: assume it did, so only the registry decides.
            CommitSent = latest.Role == MigrationRole.Source && latest.Phase == MigrationPhase.SwitchingOver,
        };
        string decision;
        try
        {
            decision = latest.Role == MigrationRole.Source
                ? await RecoverSourceAsync(run).ConfigureAwait(false)
                : await RecoverDestinationAsync(run).ConfigureAwait(false);
        }
        catch (MigrationInDoubtException e)
        {
            decision = "left in doubt: " + e.Problem;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException
            or OwnershipRegistryException or HypervisorException)
        {
            // One migration's hypervisor or files failing must not keep the others from being recovered.
            decision = $"not finished ({e.Message}); run recovery again once that is fixed";
        }

        var outcome = new RecoveredMigration(latest.MigrationId, latest.VmId, latest.Role, latest.Phase, run.Record.Phase, decision);
        Log.Recovered(_logger, outcome.MigrationId, outcome.VmId, outcome.Role, outcome.From, outcome.To, decision);
        await AuditAsync(outcome.MigrationId, outcome.VmId, "recovered", $"{outcome.From} -> {outcome.To}: {decision}")
            .ConfigureAwait(false);
        return outcome;
    }

    private async Task<string> RecoverSourceAsync(MigrationRun run)
    {
        if (MigrationStateMachine.IsCommitted(run.Record.Phase))
        {
            await RollForwardSourceAsync(run).ConfigureAwait(false);
            return "the journal shows the commit: rolled forward";
        }

        MigrationResult result = await SettleSourceAsync(run, $"interrupted in {run.Record.Phase} by a crash", peerKnows: true)
            .ConfigureAwait(false);
        return result.IsCommitted
            ? "the registry shows the destination took the epoch: rolled forward"
            : "the registry let this host keep the epoch: rolled back, the VM runs here";
    }

    private async Task<string> RecoverDestinationAsync(MigrationRun run)
    {
        if (MigrationStateMachine.IsCommitted(run.Record.Phase))
        {
            await RollForwardDestinationAsync(run).ConfigureAwait(false);
            return "the journal shows the commit: rolled forward, the VM runs here";
        }

        if (run.Record.Phase == MigrationPhase.SwitchingOver)
        {
            OwnershipRecord? current;
            try
            {
                current = await _registry.GetAsync(run.VmId).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
            {
                throw new MigrationInDoubtException(run.Id, run.VmId, $"the ownership registry could not be read ({e.Message})", e);
            }

            if (current is null)
            {
                // The source registered the VM before anything moved, so a registry that does not know it is not the one the
                // hosts share (another --registry, an unmounted share). This host may have taken the epoch there: rolling
                // back on its word could destroy the only copy once the source, asking the real registry, rolls forward.
                throw new MigrationInDoubtException(run.Id, run.VmId,
                    "the ownership registry does not know the VM, so it is not the registry the hosts share (secmig: --registry); " +
                    "the copy here stays paused until recovery can ask that one");
            }

            if (current.MigrationId == run.Id && current.Epoch == run.Record.Epoch + 1
                && string.Equals(current.Owner, Host, StringComparison.Ordinal))
            {
                run.Record = run.Record with { RegistryRevision = current.Revision > 0 ? current.Revision : null };
                await TryStepAsync(run, MigrationPhase.Committed, "the registry shows this host took the epoch before the crash")
                    .ConfigureAwait(false);
                await RollForwardDestinationAsync(run).ConfigureAwait(false);
                return "the registry shows this host took the epoch: rolled forward, the VM runs here";
            }

            if (current.Epoch <= run.Record.Epoch)
            {
                // Nothing moved yet (an epoch below the start is a record put back, no better), but this host may have sent its
                // commit before the crash, and a consensus store can still apply a request its sender no longer waits for. Only
                // once the source takes the epoch back can that commit no longer land; destroying this copy before could leave none.
                throw new MigrationInDoubtException(run.Id, run.VmId,
                    $"the registry still shows {Describe(current)}, from which this host's commit, perhaps sent before the crash, " +
                    "could still be applied; the copy here stays paused until the source settles the migration (its recovery takes " +
                    "the epoch back), then recover again");
            }
        }

        await RollBackDestinationAsync(run, $"interrupted in {run.Record.Phase} by a crash", peerKnows: true).ConfigureAwait(false);
        return "this host never took the epoch: rolled back, the partial copy is gone";
    }
}
