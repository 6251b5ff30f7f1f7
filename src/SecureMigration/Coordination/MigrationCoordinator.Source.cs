using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net.Sockets;
using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;
using SecureMigration.Coordination.Phases;
using SecureMigration.Coordination.Protocol;
using SecureMigration.Coordination.Residues;
using SecureMigration.Text;

namespace SecureMigration.Coordination;

/// <summary>The source's side of a migration.</summary>
public sealed partial class MigrationCoordinator
{
    /// <summary>
    /// Migrates <paramref name="vmId"/> from this host to <paramref name="destinationHost"/>. Returns only in a stable state:
    /// <see cref="MigrationStatus.Completed"/> (the VM runs on the destination and this host's copy and snapshot went to
    /// the residue handler) or <see cref="MigrationStatus.RolledBack"/> (the VM runs here again), or
    /// <see cref="MigrationStatus.Refused"/> when it never started.
    /// </summary>
    /// <param name="vmId">The VM; this host must hold its ownership epoch and it must be running here.</param>
    /// <param name="destinationHost">The destination's identity.</param>
    /// <param name="connect">Opens an authenticated connection to the destination for a ticket (for example
    /// <see cref="SecureChannelFactory.ConnectAsync(System.Net.EndPoint, MigrationTicket, CancellationToken)"/>).</param>
    /// <param name="trigger">Why the migration happens, for admission.</param>
    /// <param name="progress">Receives phase and byte progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the migration; it then rolls back.</param>
    /// <returns>How it ended.</returns>
    /// <exception cref="MigrationInDoubtException">The commit was requested and the registry cannot be reached: the VM stays paused until
    /// recovery.</exception>
    public Task<MigrationResult> MigrateAsync(string vmId, string destinationHost,
        Func<MigrationTicket, CancellationToken, Task<MigrationConnection>> connect,
        MigrationTrigger trigger = MigrationTrigger.Manual, IProgress<MigrationProgress>? progress = null,
            CancellationToken cancellationToken = default) =>
        CoordinationTelemetry.ObserveAsync(MigrationRole.Source, vmId, _options.TimeProvider,
            () => SettledAfterAsync(MigrateObservedAsync(vmId, destinationHost, connect, trigger, progress, cancellationToken)));

    private async Task<MigrationResult> MigrateObservedAsync(string vmId, string destinationHost,
        Func<MigrationTicket, CancellationToken, Task<MigrationConnection>> connect,
        MigrationTrigger trigger, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        VmIds.EnsureValid(vmId);
        ArgumentException.ThrowIfNullOrEmpty(destinationHost);
        ArgumentNullException.ThrowIfNull(connect);
        var migrationId = Guid.NewGuid();
        // Both only read: the hypervisor is asked while the registry answers.
        Task<VmStatus> querying = _driver.QueryAsync(vmId, cancellationToken).AsTask();
        OwnershipRecord? owner;
        try
        {
            owner = await _registry.GetAsync(vmId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ((Task)querying).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (owner is null || !string.Equals(owner.Owner, Host, StringComparison.Ordinal))
        {
            string holder = owner is null ? "the ownership registry does not know it" : $"'{owner.Owner}' holds its epoch {owner.Epoch}";
            return Refused(migrationId, vmId, MigrationRole.Source,
                $"this host ('{Host}') does not own VM '{vmId}': {holder}. Migrate it from its owner, with the registry every host " +
                    $"shares (secmig: --registry)",
                owner?.Epoch ?? 0);
        }

        VmStatus status = await querying.ConfigureAwait(false);
        if (status.State != VmRunState.Running)
        {
            string seen = status.Detail is { } detail ? $" ({UntrustedText.Bound(detail)})" : string.Empty;
            return Refused(migrationId, vmId, MigrationRole.Source, $"VM '{vmId}' is {status.State} here{seen}, and only a running VM " +
                $"migrates", owner.Epoch);
        }

        var run = new MigrationRun(
            new JournalRecord
            {
                MigrationId = migrationId, Role = MigrationRole.Source, Phase = MigrationPhase.Admitted, VmId = vmId,
                SourceHost = Host, DestinationHost = destinationHost, Epoch = owner.Epoch,
                RegistryRevision = owner.Revision > 0 ? owner.Revision : null,
            },
            progress);
        await using (run.ConfigureAwait(false))
        {
            if (_registry is IMigrationLeases leases && await TakeInFlightLeaseAsync(run, leases,
                cancellationToken).ConfigureAwait(false) is
                { } taken)
            {
                return Refused(migrationId, vmId, MigrationRole.Source, taken, owner.Epoch);
            }

            if (_admission is not null)
            {
                AdmissionDecision decision = _admission.TryAdmit(new MigrationRequest(vmId, Host, destinationHost, trigger));
                if (!decision.IsAdmitted)
                {
                    await AuditAsync(migrationId, vmId, "admission-denied", decision.Message).ConfigureAwait(false);
                    return Refused(migrationId, vmId, MigrationRole.Source, "admission denied it: " + decision.Message, owner.Epoch) with
                    {
                        Denial = decision.Reason, RetryAfter = decision.RetryAfter,
                    };
                }

                run.Lease = decision.Lease;
                if (_registry is IClusterAdmission cluster &&
                    await AskClusterAsync(run, cluster, decision.Lease.Request, cancellationToken).ConfigureAwait(false) is { } denied)
                {
                    return denied;
                }
            }

            try
            {
                return await RunSourceAsync(run, status.Images, connect, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationAbortedException or HandshakeFailedException or DestinationUnreachableException
                or SocketException or IOException or InvalidOperationException or HypervisorException ||
                (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                string reason = e is MigrationAbortedException aborted ? aborted.Reason : e is OperationCanceledException ? "the caller " +
                    "cancelled it" : e.Message;
                run.FailedPermanently = !run.CommitSent && PermanentFailures.IsPermanent(e);
                return await SettleSourceAsync(run, reason, e is MigrationAbortedException { ByPeer: true }).ConfigureAwait(false);
            }
            catch (JournalWriteException e) when (!run.Journaled)
            {
                Complete(run, MigrationOutcome.Cancelled);
                return Refused(migrationId, vmId, MigrationRole.Source, e.Message, owner.Epoch);
            }
            catch (JournalWriteException e)
            {
                return await SettleSourceAsync(run, e.Message, peerKnows: false).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Takes the registry's lease on this migration (before admission, so a VM another orchestrator migrates costs no
    /// budget); returns why the migration may not start, or <see langword="null"/> with the lease held by the run.
    /// </summary>
    private async ValueTask<string?> TakeInFlightLeaseAsync(MigrationRun run, IMigrationLeases leases, CancellationToken cancellationToken)
    {
        var migration = new InFlightMigration(run.Id, run.VmId, Host, run.Record.DestinationHost, _options.TimeProvider.GetUtcNow());
        MigrationLease lease;
        try
        {
            lease = await leases.AcquireAsync(migration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
        {
            return $"the ownership registry could not lease the migration ({UntrustedText.Bound(e.Message)}); nothing was done";
        }

        if (!lease.IsHeld)
        {
            InFlightMigration holder = lease.Holder;
            return $"VM '{run.VmId}' is already migrating: migration {holder.MigrationId} from " +
                $"'{UntrustedText.Bound(holder.Source, 160)}' " +
                $"to '{UntrustedText.Bound(holder.Destination, 160)}', started {holder.StartedAt:u}, holds its lease in the registry. " +
                "Wait for it to end; if its orchestrator died, the lease expires by itself";
        }

        run.InFlight = lease;
        return null;
    }

    /// <summary>
    /// Asks the cluster's admission (caps, global retry budget, dwell and ping-pong across every orchestrator) once the
    /// local controller admitted the request; returns the refusal, or <see langword="null"/> with the slots held by the run.
    /// </summary>
    private async ValueTask<MigrationResult?> AskClusterAsync(MigrationRun run, IClusterAdmission cluster, MigrationRequest request,
        CancellationToken cancellationToken)
    {
        ClusterAdmissionDecision verdict;
        try
        {
            verdict = await cluster.TryAdmitAsync(request, _admission!.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
        {
            Complete(run, MigrationOutcome.Cancelled);
            return Refused(run.Id, run.VmId, MigrationRole.Source, $"the cluster's admission could not be asked " +
                $"({UntrustedText.Bound(e.Message)}); nothing was done", run.Record.Epoch);
        }

        if (!verdict.IsAdmitted)
        {
            Complete(run, MigrationOutcome.Cancelled);
            await AuditAsync(run.Id, run.VmId, "admission-denied", "cluster: " + verdict.Denial.Message).ConfigureAwait(false);
            return Refused(run.Id, run.VmId, MigrationRole.Source, "the cluster's admission denied it: " + verdict.Denial.Message,
                run.Record.Epoch) with { Denial = verdict.Denial.Reason, RetryAfter = verdict.Denial.RetryAfter };
        }

        run.ClusterSlots = verdict;
        return null;
    }

    private async Task<MigrationResult> RunSourceAsync(MigrationRun run, IReadOnlyList<string> images,
        Func<MigrationTicket, CancellationToken, Task<MigrationConnection>> connect,
        CancellationToken cancellationToken)
    {
        await StepAsync(run, MigrationPhase.Admitted).ConfigureAwait(false);
        string snapshot = await _snapshots.TakeAsync(run.Id, run.VmId, images, cancellationToken).ConfigureAwait(false);
        if (_preHooks.IsEmpty)
        {
            // Nothing runs between the two checkpoints: one journal write (ADR 0025).
            await StepsAsync(run, [MigrationPhase.Snapshotted, MigrationPhase.PreHooksDone], snapshot: snapshot).ConfigureAwait(false);
        }
        else
        {
            await StepAsync(run, MigrationPhase.Snapshotted, snapshot: snapshot).ConfigureAwait(false);
            if (await _preHooks.RunAsync(run.Hook(HookStage.PreMigrate), cancellationToken).ConfigureAwait(false) is { } veto)
            {
                return await SettleSourceAsync(run, veto, peerKnows: false).ConfigureAwait(false);
            }

            await StepAsync(run, MigrationPhase.PreHooksDone).ConfigureAwait(false);
        }

        MigrationTicket ticket = MigrationTicket.Create(run.VmId, Host, run.Record.DestinationHost, run.Record.Epoch,
            _options.TicketLifetime, _options.TimeProvider, run.Id)
            with
            {
                RegistryId = await _registry.GetIdAsync(cancellationToken).ConfigureAwait(false),
                RegistryRevision = run.Record.RegistryRevision,
            };

        // The hypervisor's checks and settings change nothing a rollback undoes: they run while the channel opens and the
        // destination readies, and are awaited (their failure ends the migration) before it starts.
        Task preparing = _driver.PrepareOutgoingAsync(run.VmId, cancellationToken).AsTask();
        MigrationWire wire;
        try
        {
            run.Connection = await connect(ticket, cancellationToken).ConfigureAwait(false);
            run.Wire = wire = new MigrationWire(run.Connection.Pipe, _options.StallTimeout, _options.TimeProvider);
            // The checkpoint is written while the destination readies: nothing here acts on the VM until both ended.
            await WhileCheckpointingAsync(StepAsync(run, MigrationPhase.ChannelOpen).AsTask(),
                () => wire.ReceiveAsync(FrameType.Ready, _options.CommitTimeout, cancellationToken).AsTask()).ConfigureAwait(false);
        }
        finally
        {
            // Ended before anything else touches the VM (a rollback resumes it), whatever its outcome.
            await preparing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await preparing.ConfigureAwait(false);
        await StepAsync(run, MigrationPhase.Transferring).ConfigureAwait(false);
        byte[] digest;
        var hash = new XxHash128();
        Stream stream = await _driver.StartOutgoingAsync(run.VmId, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            run.Bytes = await wire.SendStreamAsync(stream, hash, _options.FlushBytes, bytes => { run.Bytes = bytes; run.Report(); },
                cancellationToken).ConfigureAwait(false);
        }

        digest = hash.GetCurrentHash();

        // The hypervisor's stream ended: the VM is paused here. From now on it must not run here unless the registry says so.
        // SwitchingOver is written while the destination verifies the stream: the commit request, the first step that needs
        // it durable (recovery must then ask the registry), waits for both.
        byte[] end = new byte[sizeof(ulong) + MigrationWire.DigestLength];
        BinaryPrimitives.WriteUInt64LittleEndian(end, (ulong)run.Bytes);
        digest.CopyTo(end, sizeof(ulong));
        await WhileCheckpointingAsync(StepAsync(run, MigrationPhase.SwitchingOver, reason: MigrationWire.DescribeDigest(digest)).AsTask(),
            async () =>
            {
                await wire.SendAsync(FrameType.EndOfStream, end, cancellationToken).ConfigureAwait(false);
                await wire.ReceiveAsync(FrameType.Verified, _options.CommitTimeout, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);

        if (await _postHooks.RunAsync(run.Hook(HookStage.PostMigrate), cancellationToken).ConfigureAwait(false) is { } postVeto)
        {
            return await SettleSourceAsync(run, postVeto, peerKnows: false).ConfigureAwait(false);
        }

        run.CommitSent = true;
        string? ackProblem = null;
        try
        {
            await wire.SendAsync(FrameType.Commit, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            await wire.ReceiveAsync(FrameType.Committed, _options.CommitTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (MigrationAbortedException e)
        {
            // A lost acknowledgement decides nothing: the registry does.
            ackProblem = e.Reason;
        }

        return await SettleSourceAsync(run, ackProblem ?? "the destination acknowledged the commit", peerKnows: ackProblem is null)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Ends a source migration the only safe way: by trying to take the epoch back. If that works (or this host still
    /// holds it), nobody else can commit and the VM resumes here; if the destination took it first, the migration
    /// committed and this copy goes; if a third party took it by another migration from this host, this copy is stale and
    /// goes. A third party that holds the epoch by a migration this host never ran got it without this host's consent (a
    /// record forged by a host that can write the registry): nothing is destroyed on its word, and the migration is in doubt.
    /// </summary>
    private async Task<MigrationResult> SettleSourceAsync(MigrationRun run, string reason, bool peerKnows)
    {
        if (!run.Journaled)
        {
            Complete(run, MigrationOutcome.Cancelled);
            return Refused(run.Id, run.VmId, MigrationRole.Source, reason, run.Record.Epoch);
        }

        OwnershipMove move;
        try
        {
            // Bound to the revision the migration started from: the same record put back after a commit does not pass for it.
            var started = new OwnershipRecord(run.VmId, Host, run.Record.Epoch, null, default) { Revision = run.Record.RegistryRevision ??
                0 };
            move = await _registry.TryMoveAsync(started, Host, run.Id).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
        {
            if (run.CommitSent)
            {
                throw new MigrationInDoubtException(run.Id, run.VmId, $"the ownership registry could not be reached after the commit was " +
                    $"requested ({e.Message})", e);
            }

            // Before the commit request the destination cannot have taken the epoch, so resuming is safe without the registry.
            move = new OwnershipMove(true, null);
        }

        if (IsCommittedTo(move.Current, run))
        {
            return await RollForwardSourceAsync(run).ConfigureAwait(false);
        }

        if (run.CommitSent)
        {
            // Whatever the destination said after the commit request (an acknowledgement included), the registry decides,
            // and the destination is told what it decided.
            reason = $"{reason}; the registry shows no commit ({Describe(move.Current)})";
            peerKnows = false;
        }

        if (!peerKnows && run.Wire is { } wire)
        {
            await wire.TrySendAbortAsync(reason).ConfigureAwait(false);
        }

        // With the revision the migration started from, only two records can follow it: the destination's commit (above) and
        // this migration's own take-back. Any other (an earlier record of this host's, a third party's) was written by someone
        // else after the start, perhaps over the commit: neither resuming nor discarding this copy is safe on it.
        if (!move.Moved && run.Record.RegistryRevision is { } startedAt && move.Current is { } rewritten && !IsTakenBack(rewritten, run))
        {
            throw new MigrationInDoubtException(run.Id, run.VmId,
                $"the registry's record was rewritten since this migration read it at revision {startedAt}: it now says " +
                $"{Describe(rewritten)} at revision {rewritten.Revision}, which neither the commit nor this host's take-back wrote, " +
                "so whoever can write the registry put it there, perhaps over the destination's commit. The VM stays paused here " +
                "and nothing is destroyed; find who wrote the record (etcd's audit), then recover");
        }

        if (move.Moved || string.Equals(move.Current?.Owner, Host, StringComparison.Ordinal))
        {
            return await RollBackSourceAsync(run, reason).ConfigureAwait(false);
        }

        if (move.Current is null)
        {
            throw new MigrationInDoubtException(run.Id, run.VmId, "the ownership registry no longer knows the VM, so no host may run it " +
                "on its word");
        }

        string holder = UntrustedText.Bound(move.Current.Owner, 160);
        if (move.Current.MigrationId is not { } by || _journal.Latest(by) is not { Role: MigrationRole.Source } earlier ||
            !string.Equals(earlier.VmId, run.VmId, StringComparison.Ordinal))
        {
            throw new MigrationInDoubtException(run.Id, run.VmId,
                $"the registry says '{holder}' holds epoch {move.Current.Epoch} by migration " +
                    $"{move.Current.MigrationId?.ToString() ?? "(none)"}, which this host " +
                "never ran: only this host could have released the VM, so the record was written without its consent (by a host that can " +
                    "write the " +
                "registry). The VM stays paused here and nothing is destroyed; find who wrote the record, restore it, then recover");
        }

        return await AbandonSourceAsync(run, $"'{holder}' holds the epoch ({move.Current.Epoch}) by this host's migration {by}, so this " +
            $"copy is stale").ConfigureAwait(false);
    }

    private async Task<MigrationResult> RollBackSourceAsync(MigrationRun run, string reason)
    {
        if (run.Record.Phase != MigrationPhase.RollingBack)
        {
            await TryStepAsync(run, MigrationPhase.RollingBack, reason).ConfigureAwait(false);
        }

        await _driver.ResumeSourceAsync(run.VmId).ConfigureAwait(false);
        await ReleaseSnapshotAsync(run.Id, run.VmId, run.Record.Snapshot).ConfigureAwait(false);
        await TryStepAsync(run, MigrationPhase.RolledBack, reason).ConfigureAwait(false);

        // A failure no retry can heal is not the VM's or the pair's fault: it opens no breaker and sets no backoff.
        Complete(run, run.FailedPermanently ? MigrationOutcome.Cancelled : MigrationOutcome.Failed);
        return new MigrationResult(run.Id, run.VmId, MigrationRole.Source, MigrationStatus.RolledBack, reason, run.Bytes,
            run.Record.Epoch + 1)
        {
            IsPermanent = run.FailedPermanently,
        };
    }

    private async Task<MigrationResult> RollForwardSourceAsync(MigrationRun run)
    {
        if (run.Record.Phase == MigrationPhase.SwitchingOver)
        {
            await TryStepAsync(run, MigrationPhase.Committed).ConfigureAwait(false);
        }

        if (run.Record.Phase == MigrationPhase.Committed)
        {
            await DiscardSourceCopyAsync(run).ConfigureAwait(false);
            await TryStepAsync(run, MigrationPhase.Cleaned).ConfigureAwait(false);
        }

        if (run.Record.Phase == MigrationPhase.Cleaned)
        {
            await TryStepAsync(run, MigrationPhase.Completed).ConfigureAwait(false);
        }

        Complete(run, MigrationOutcome.Succeeded);
        return new MigrationResult(run.Id, run.VmId, MigrationRole.Source, MigrationStatus.Completed, null, run.Bytes,
            run.Record.Epoch + 1);
    }

    /// <summary>The epoch moved on by other means while this migration ran: this copy is stale and must never run again.</summary>
    private async Task<MigrationResult> AbandonSourceAsync(MigrationRun run, string reason)
    {
        if (run.Record.Phase != MigrationPhase.RollingBack)
        {
            await TryStepAsync(run, MigrationPhase.RollingBack, reason).ConfigureAwait(false);
        }

        await DiscardSourceCopyAsync(run).ConfigureAwait(false);
        await TryStepAsync(run, MigrationPhase.RolledBack, reason).ConfigureAwait(false);
        Complete(run, MigrationOutcome.Cancelled);
        return new MigrationResult(run.Id, run.VmId, MigrationRole.Source, MigrationStatus.RolledBack, reason, run.Bytes, run.Record.Epoch);
    }

    private async ValueTask DiscardSourceCopyAsync(MigrationRun run)
    {
        IReadOnlyList<string> images = await _driver.DiscardSourceAsync(run.VmId).ConfigureAwait(false);
        await DisposeResidueAsync(run.Id, run.VmId, ResidueKind.SourceImage, images).ConfigureAwait(false);
        await ReleaseSnapshotAsync(run.Id, run.VmId, run.Record.Snapshot).ConfigureAwait(false);
    }

    private bool IsTakenBack(OwnershipRecord current, MigrationRun run) =>
        current.MigrationId == run.Id && current.Epoch == run.Record.Epoch + 1 && string.Equals(current.Owner, Host,
            StringComparison.Ordinal);

    private static bool IsCommittedTo(OwnershipRecord? current, MigrationRun run) =>
        current is not null && current.MigrationId == run.Id && current.Epoch == run.Record.Epoch + 1 &&
        string.Equals(current.Owner, run.Record.DestinationHost, StringComparison.Ordinal);

    private static string Describe(OwnershipRecord? record) =>
        record is null ? "the registry does not know the VM" : $"'{UntrustedText.Bound(record.Owner, 300)}' holds epoch {record.Epoch}";
}
