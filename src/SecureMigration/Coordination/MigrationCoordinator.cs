using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Admission;
using SecureMigration.Audit;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Coordination.Residues;
using SecureMigration.Coordination.Snapshots;
using SecureMigration.Telemetry;
using SecureMigration.Text;

namespace SecureMigration.Coordination;

/// <summary>
/// Runs migrations on this host as checkpointed state machines, as source (<see cref="MigrateAsync"/>) or destination
/// (<see cref="ReceiveAsync"/>), and finishes interrupted ones on start (<see cref="RecoverAsync(CancellationToken)"/>). Every phase is
/// journaled durably before the coordinator acts on it; ownership moves only through the registry's compare-and-swap,
/// so a crash, a cut or a lie at any point ends with exactly one runnable copy of the VM.
/// </summary>
public sealed partial class MigrationCoordinator
{
    /// <summary>How many refusals of one peer are logged a minute; the rest are audited only.</summary>
    private const double RefusalLinesPerMinute = 6;

    /// <summary>How many refusals of one peer are audited one by one a minute; the rest are counted into the next entry.</summary>
    private const double RefusalAuditsPerMinute = 60;

    /// <summary>How many peers the refusal log tracks on their own; the rest share one allowance.</summary>
    private const int MaxPeersTracked = 1024;

    private readonly CoordinatorOptions _options;
    private readonly HypervisorDriver _driver;
    private readonly IMigrationJournal _journal;
    private readonly IOwnershipRegistry _registry;
    private readonly IJournalAnchor? _anchor;
    private readonly JournalAnchorPump? _anchorPump;
    private readonly AuditWriteBehind _audit;
    private readonly ISnapshotProvider _snapshots;
    private readonly IResidueHandler _residue;
    private readonly AdmissionController? _admission;
    private readonly HookRunner _preHooks;
    private readonly HookRunner _postHooks;
    private readonly ILogger _logger;
    private readonly PeerLogLimiter _refusalLog;
    private readonly PeerLogLimiter _refusalAudit;

    /// <summary>
    /// Creates a coordinator for this host; only <see cref="Hosting.MigrationHostBuilder"/> calls it, with validated parts
    /// and a snapshot of the options.
    /// </summary>
    internal MigrationCoordinator(CoordinatorOptions options, HypervisorDriver driver, IMigrationJournal journal,
        IOwnershipRegistry registry,
        IAuditSink audit, ISnapshotProvider snapshots, IResidueHandler residue, AdmissionController? admission,
            ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _driver = driver ?? throw new ArgumentNullException(nameof(driver));
        _journal = journal ?? throw new ArgumentNullException(nameof(journal));
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _anchor = registry as IJournalAnchor;
        ArgumentNullException.ThrowIfNull(audit);
        _snapshots = snapshots ?? throw new ArgumentNullException(nameof(snapshots));
        _residue = residue ?? throw new ArgumentNullException(nameof(residue));
        _admission = admission;
        _preHooks = new HookRunner([.. options.PreMigrateHooks], options.HookTimeout, options.TimeProvider);
        _postHooks = new HookRunner([.. options.PostMigrateHooks], options.HookTimeout, options.TimeProvider);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Coordination");
        _refusalLog = new PeerLogLimiter(RefusalLinesPerMinute, MaxPeersTracked, options.TimeProvider);
        _refusalAudit = new PeerLogLimiter(RefusalAuditsPerMinute, MaxPeersTracked, options.TimeProvider);
        _anchorPump = _anchor is null ? null : new JournalAnchorPump(_anchor, AnchorName, e => Log.AnchorUnavailable(_logger, e.Message));
        _audit = new AuditWriteBehind(audit, (eventName, e) => Log.AuditUnavailable(_logger, eventName, e.Message));
    }

    private string Host => _options.HostId;

    /// <summary>The journal's name in the anchor: this host and the journal's path (a host may run several coordinators, each with its
    /// journal).</summary>
    private string AnchorName => Host + " " + _journal.Name;

    /// <summary>Journals the next phase (durably), then logs and reports it; its audit entry is written behind (ADR 0025).</summary>
    private ValueTask StepAsync(MigrationRun run, MigrationPhase phase, string? reason = null, string? snapshot = null) =>
        StepsAsync(run, [phase], reason, snapshot);

    /// <summary>
    /// Journals the next phases with one durable write, then logs and reports each; for checkpoints between which nothing
    /// happens that a crash could leave half done (those around the pre-migrate hooks when none is configured, ADR 0025).
    /// </summary>
    private async ValueTask StepsAsync(MigrationRun run, MigrationPhase[] phases, string? reason = null, string? snapshot = null)
    {
        reason = reason is null ? null : UntrustedText.Bound(reason);
        var next = new JournalRecord[phases.Length];
        JournalRecord previous = run.Record;
        for (int i = 0; i < phases.Length; i++)
        {
            next[i] = previous = previous with { Phase = phases[i], Reason = reason, Snapshot = snapshot ?? previous.Snapshot };
        }

        IReadOnlyList<JournalRecord> written;
        try
        {
            written = next.Length == 1 ? [await _journal.AppendAsync(next[0]).ConfigureAwait(false)]
                : await _journal.AppendRangeAsync(next).ConfigureAwait(false);
        }
        catch (JournalWriteException)
        {
            run.JournalLost = true;
            throw;
        }
        catch (Exception e) when (e is ArgumentException or IllegalPhaseTransitionException or InvalidOperationException or
            ObjectDisposedException or IOException)
        {
            // A record the journal will not take (too long, out of order, journal closed) is a checkpoint lost like any other.
            run.JournalLost = true;
            throw new JournalWriteException(_journal.Name, next[0], e);
        }

        run.Journaled = true;
        AnchorJournal();
        foreach (JournalRecord record in written)
        {
            run.Record = record;
            Log.Phase(_logger, run.Id, run.VmId, record.Role, record.Phase, reason);
            AuditBehind(run.Id, run.VmId, record.Phase.ToString(), reason);
            run.Report();
        }
    }

    /// <summary>
    /// Runs <paramref name="meanwhile"/> while <paramref name="checkpoint"/> is written, and returns once both ended. The
    /// checkpoint comes first in the code's order, so its failure is the one thrown when both fail (a simulated or real
    /// crash at the checkpoint ends the run there, whatever the peer said meanwhile); otherwise the other's.
    /// </summary>
    private static async Task WhileCheckpointingAsync(Task checkpoint, Func<Task> meanwhile)
    {
        try
        {
            await meanwhile().ConfigureAwait(false);
        }
        catch
        {
            await checkpoint.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!checkpoint.IsCompletedSuccessfully)
            {
                await checkpoint.ConfigureAwait(false);
            }

            throw;
        }

        await checkpoint.ConfigureAwait(false);
    }

    /// <summary>Journals a step of a rollback or roll-forward that must go on even if the journal cannot be written: the action is
    /// idempotent and recovery repeats it.</summary>
    private async ValueTask TryStepAsync(MigrationRun run, MigrationPhase phase, string? reason = null)
    {
        if (!run.JournalLost)
        {
            try
            {
                await StepAsync(run, phase, reason).ConfigureAwait(false);
                return;
            }
            catch (JournalWriteException e)
            {
                // Later steps of this run are not journaled either: the journal keeps the last durable checkpoint, and
                // recovery repeats the (idempotent) steps from there.
                run.JournalLost = true;
                Log.JournalUnavailable(_logger, run.Id, run.VmId, phase, e.Message);
            }
        }

        run.Record = run.Record with { Phase = phase, Reason = reason is null ? null : UntrustedText.Bound(reason) };
        AuditBehind(run.Id, run.VmId, phase.ToString(), reason);
        run.Report();
    }

    /// <summary>Hands the journal's head to be anchored outside this host, without waiting: a lagging anchor is harmless, and
    /// <see cref="SettledAsync"/> catches up before a migration returns.</summary>
    private void AnchorJournal() => _anchorPump?.Advance(_journal.Head);

    /// <summary>Waits until the journal's head handed over so far is anchored and the audit entries handed over so far are
    /// written (or their writes failed and were logged).</summary>
    private Task SettledAsync() => Task.WhenAll(_anchorPump?.FlushAsync() ?? Task.CompletedTask, _audit.FlushAsync());

    /// <summary>Returns what <paramref name="migration"/> returns once the journal's head it reached is anchored and its audit
    /// entries are written.</summary>
    private async Task<MigrationResult> SettledAfterAsync(Task<MigrationResult> migration)
    {
        try
        {
            return await migration.ConfigureAwait(false);
        }
        finally
        {
            await SettledAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Audits an event and waits until it is written (after every entry before it); an entry lost is logged, and
    /// never stops a migration, least of all its rollback.</summary>
    private Task AuditAsync(Guid? migrationId, string? vmId, string eventName, string? detail) =>
        _audit.WriteAsync(migrationId, vmId, eventName, BoundDetail(detail));

    /// <summary>Audits an event without waiting: the entry is written after every entry before it (ADR 0025).</summary>
    private void AuditBehind(Guid? migrationId, string? vmId, string eventName, string? detail) =>
        _audit.Enqueue(migrationId, vmId, eventName, BoundDetail(detail));

    private static string? BoundDetail(string? detail) =>
        detail is null ? null : UntrustedText.Bound(detail, 2 * UntrustedText.DefaultMaxLength);

    /// <summary>Hands leftover copies to the residue handler and audits what it did.</summary>
    private async ValueTask DisposeResidueAsync(Guid migrationId, string vmId, ResidueKind kind, IEnumerable<string> paths)
    {
        foreach (string path in paths)
        {
            ResidueOutcome outcome = await _residue.HandleAsync(new Residue(migrationId, vmId, kind, path)).ConfigureAwait(false);
            await AuditAsync(migrationId, vmId, "residue-" + outcome.Action, $"{kind} {path} ({outcome.Bytes} " +
                $"bytes){(outcome.Detail is null ? string.Empty : "; " + outcome.Detail)}").ConfigureAwait(false);
        }
    }

    private async ValueTask ReleaseSnapshotAsync(Guid migrationId, string vmId, string? snapshot)
    {
        if (snapshot is not null)
        {
            await DisposeResidueAsync(migrationId, vmId, ResidueKind.Snapshot, await _snapshots.ReleaseAsync(snapshot)
                .ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    private static void Complete(MigrationRun run, MigrationOutcome outcome)
    {
        run.Outcome ??= outcome;
        if (run.Lease is { } lease)
        {
            run.Lease = null;
            lease.Complete(outcome);
        }
    }

    private MigrationResult Refused(Guid migrationId, string vmId, MigrationRole role, string reason, long epoch)
    {
        Log.Refused(_logger, migrationId, vmId, role, reason);
        return new MigrationResult(migrationId, vmId, role, MigrationStatus.Refused, reason, 0, epoch);
    }
}
