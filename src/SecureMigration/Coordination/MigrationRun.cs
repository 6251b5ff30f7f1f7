using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Protocol;

namespace SecureMigration.Coordination;

/// <summary>One migration in flight on this host: its latest checkpoint and what it holds.</summary>
internal sealed class MigrationRun(JournalRecord record, IProgress<MigrationProgress>? progress) : IAsyncDisposable
{
    /// <summary>Gets or sets the latest checkpoint (journaled once <see cref="Journaled"/>).</summary>
    public JournalRecord Record { get; set; } = record;

    public bool Journaled { get; set; }

    /// <summary>Gets or sets whether a checkpoint of this run could not be written; its later steps are then not journaled.</summary>
    public bool JournalLost { get; set; }

    public IProgress<MigrationProgress>? Progress { get; } = progress;

    public AdmissionLease? Lease { get; set; }

    /// <summary>Gets or sets the slots the cluster's admission holds for this run; completed with <see cref="Outcome"/> on
    /// dispose.</summary>
    public ClusterAdmissionDecision? ClusterSlots { get; set; }

    /// <summary>Gets or sets how the run ended, once it has.</summary>
    public MigrationOutcome? Outcome { get; set; }

    /// <summary>Gets or sets the lease a shared registry keeps on this migration while it runs; released on dispose.</summary>
    public MigrationLease? InFlight { get; set; }

    public MigrationConnection? Connection { get; set; }

    public MigrationWire? Wire { get; set; }

    /// <summary>Gets or sets whether the source asked the destination to commit: from then on only the registry can say what
    /// happened.</summary>
    public bool CommitSent { get; set; }

    /// <summary>Gets or sets whether the destination's hypervisor prepared an incoming VM that is this migration's to destroy.</summary>
    public bool Prepared { get; set; }

    public long Bytes { get; set; }

    /// <summary>Gets or sets whether the migration failed for a reason no retry can heal (<see cref="PermanentFailures"/>).</summary>
    public bool FailedPermanently { get; set; }

    /// <summary>Gets or sets what keeps a second migration of the same VM out while this one runs; released on dispose.</summary>
    public IDisposable? Reservation { get; set; }

    public Guid Id => Record.MigrationId;

    public string VmId => Record.VmId;

    public MigrationHookContext Hook(HookStage stage) =>
        new(Id, VmId, Record.Role, stage, Record.SourceHost, Record.DestinationHost, Record.Epoch);

    public void Report() => Progress?.Report(new MigrationProgress(Id, VmId, Record.Phase, Bytes));

    public async ValueTask DisposeAsync()
    {
        // Whatever ended the run, its admission slot is given back.
        if (Lease is { } lease)
        {
            Lease = null;
            lease.Complete(MigrationOutcome.Failed);
        }

        Reservation?.Dispose();
        try
        {
            // Leases held in a shared store; whatever their release does, the connection below is closed.
            if (ClusterSlots is { } slots)
            {
                ClusterSlots = null;
                await slots.CompleteAsync(Outcome ?? MigrationOutcome.Failed).ConfigureAwait(false);
            }

            if (InFlight is { } inFlight)
            {
                InFlight = null;
                await inFlight.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask CloseAsync()
    {
        Wire?.Dispose();
        if (Connection is not null)
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
