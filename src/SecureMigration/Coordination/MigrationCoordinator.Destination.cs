using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
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

/// <summary>The destination's side of a migration.</summary>
public sealed partial class MigrationCoordinator
{
    /// <summary>
    /// Serves the migration that arrived on <paramref name="connection"/> (its ticket names the VM, the source and the
    /// epoch). The VM runs here only after this host took the ownership epoch; on any failure before that, the partial
    /// copy is destroyed and handed to the residue handler.
    /// </summary>
    /// <param name="connection">An authenticated connection, such as a <see cref="ChannelConnection"/> from
    /// <see cref="SecureChannelListener"/>; the coordinator disposes it.</param>
    /// <param name="progress">Receives phase and byte progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the migration; it then rolls back unless it already committed.</param>
    /// <returns>How it ended.</returns>
    public Task<MigrationResult> ReceiveAsync(MigrationConnection connection, IProgress<MigrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return CoordinationTelemetry.ObserveAsync(MigrationRole.Destination, connection.Ticket.VmId, _options.TimeProvider,
            () => SettledAfterAsync(ReceiveObservedAsync(connection, progress, cancellationToken)));
    }

    private async Task<MigrationResult> ReceiveObservedAsync(MigrationConnection connection, IProgress<MigrationProgress>? progress,
        CancellationToken cancellationToken)
    {
        MigrationTicket ticket = connection.Ticket;
        var wire = new MigrationWire(connection.Pipe, _options.StallTimeout, _options.TimeProvider);
        string? refusal;
        IDisposable? reservation;
        try
        {
            (refusal, reservation) = await ReserveIncomingAsync(ticket, connection.Peer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Whatever the check threw (a cancellation, a driver's surprise), the peer's connection is not kept.
            wire.Dispose();
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        if (refusal is not null)
        {
            // Nothing was journaled, admitted or touched: the refused peer costs an audit entry and a bounded log line.
            await using (connection.ConfigureAwait(false))
            {
                using (wire)
                {
                    await RecordRefusalAsync(ticket, connection.Peer, refusal).ConfigureAwait(false);
                    await wire.TrySendAbortAsync(refusal).ConfigureAwait(false);
                }
            }

            string vmId = VmIds.IsValid(ticket.VmId) ? ticket.VmId : "(invalid)";
            return new MigrationResult(ticket.MigrationId, vmId, MigrationRole.Destination, MigrationStatus.Refused, refusal, 0,
                ticket.OwnershipEpoch);
        }

        var run = new MigrationRun(
            new JournalRecord
            {
                MigrationId = ticket.MigrationId, Role = MigrationRole.Destination, Phase = MigrationPhase.ChannelOpen, VmId = ticket.VmId,
                SourceHost = ticket.SourceIdentity, DestinationHost = Host, Epoch = ticket.OwnershipEpoch,
            },
            progress)
        {
            Connection = connection,
            Wire = wire,
            Reservation = reservation,
        };
        await using (run.ConfigureAwait(false))
        {
            try
            {
                return await RunDestinationAsync(run, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is MigrationAbortedException or IOException or InvalidOperationException or InvalidDataException
                or HypervisorException ||
                (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                string reason = e is MigrationAbortedException aborted ? aborted.Reason : e is OperationCanceledException ? "the caller " +
                    "cancelled it" : e.Message;
                return await RollBackDestinationAsync(run, reason, peerKnows: e is MigrationAbortedException { ByPeer: true })
                    .ConfigureAwait(false);
            }
            catch (JournalWriteException e)
            {
                return await RollBackDestinationAsync(run, e.Message, peerKnows: false).ConfigureAwait(false);
            }
        }
    }

    private async Task<MigrationResult> RunDestinationAsync(MigrationRun run, CancellationToken cancellationToken)
    {
        MigrationWire wire = run.Wire!;
        if (_admission is not null)
        {
            // Decided in memory before the first checkpoint, so that an admitted migration journals ChannelOpen and Admitted
            // (and PreHooksDone when no hook runs between) with one write: a crash loses the admission either way.
            AdmissionDecision decision = _admission.TryAdmit(new MigrationRequest(run.VmId, run.Record.SourceHost, Host,
                MigrationTrigger.Manual));
            if (!decision.IsAdmitted)
            {
                await StepAsync(run, MigrationPhase.ChannelOpen).ConfigureAwait(false);
                return await RollBackDestinationAsync(run, "admission denied it: " + decision.Message,
                    peerKnows: false).ConfigureAwait(false);
            }

            run.Lease = decision.Lease;
        }

        if (_preHooks.IsEmpty)
        {
            // The hypervisor's checks change nothing: they ran with the ticket's check, or run while the first checkpoint is
            // written, and have ended, passed, before the VM is prepared. (A hook may start or replace the VM's QEMU: with hooks, the
            // preparation checks after them.)
            using var stopChecking = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bool checkedWithTicket = _destinationChecked.TryGetValue(run.Connection!.Ticket, out _);
            _destinationChecked.Remove(run.Connection.Ticket);
            Task checking = checkedWithTicket ? Task.CompletedTask : _driver.CheckDestinationAsync(run.VmId, stopChecking.Token).AsTask();
            try
            {
                await StepsAsync(run, [MigrationPhase.ChannelOpen, MigrationPhase.Admitted, MigrationPhase.PreHooksDone])
                    .ConfigureAwait(false);
            }
            catch
            {
                await stopChecking.CancelAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                await checking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            await checking.ConfigureAwait(false);
        }
        else
        {
            await StepsAsync(run, [MigrationPhase.ChannelOpen, MigrationPhase.Admitted]).ConfigureAwait(false);
            if (await _preHooks.RunAsync(run.Hook(HookStage.PreMigrate), cancellationToken).ConfigureAwait(false) is { } veto)
            {
                return await RollBackDestinationAsync(run, veto, peerKnows: false).ConfigureAwait(false);
            }

            await StepAsync(run, MigrationPhase.PreHooksDone).ConfigureAwait(false);
        }

        Stream sink = await _driver.PrepareDestinationAsync(run.VmId, cancellationToken).ConfigureAwait(false);
        run.Prepared = true;
        ReceivedStream received;
        byte[] digest;
        await using (sink.ConfigureAwait(false))
        {
            await wire.SendAsync(FrameType.Ready, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            await StepAsync(run, MigrationPhase.Transferring).ConfigureAwait(false);
            var hash = new XxHash128();
            received = await wire.ReceiveStreamAsync(sink, hash, bytes => { run.Bytes = bytes; run.Report(); },
                cancellationToken).ConfigureAwait(false);
            digest = hash.GetCurrentHash();
        }

        if (received.Received != received.AnnouncedLength || !CryptographicOperations.FixedTimeEquals(digest, received.AnnouncedDigest))
        {
            return await RollBackDestinationAsync(run, $"the stream's digest does not match: received {received.Received} bytes with " +
                $"{MigrationWire.DescribeDigest(digest)}, " +
                $"the source sent {received.AnnouncedLength} bytes with {MigrationWire.DescribeDigest(received.AnnouncedDigest)}",
                    peerKnows: false).ConfigureAwait(false);
        }

        await _driver.FinishIncomingAsync(run.VmId, cancellationToken).ConfigureAwait(false);
        if (_postHooks.IsEmpty)
        {
            // SwitchingOver is written while the source decides: the commit, the first step that needs it durable (recovery
            // must then ask the registry), waits for both.
            Task switching = StepAsync(run, MigrationPhase.SwitchingOver, reason: MigrationWire.DescribeDigest(digest)).AsTask();
            await WhileCheckpointingAsync(switching, async () =>
            {
                await wire.SendAsync(FrameType.Verified, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                await wire.ReceiveAsync(FrameType.Commit, _options.CommitTimeout, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        else
        {
            await StepAsync(run, MigrationPhase.SwitchingOver, reason: MigrationWire.DescribeDigest(digest)).ConfigureAwait(false);
            if (await _postHooks.RunAsync(run.Hook(HookStage.PostMigrate), cancellationToken).ConfigureAwait(false) is { } postVeto)
            {
                return await RollBackDestinationAsync(run, postVeto, peerKnows: false).ConfigureAwait(false);
            }

            await wire.SendAsync(FrameType.Verified, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            await wire.ReceiveAsync(FrameType.Commit, _options.CommitTimeout, cancellationToken).ConfigureAwait(false);
        }

        OwnershipMove move;
        try
        {
            // Bound to the revision the source started from (its ticket's): a record taken back and put back since reads the
            // same but does not move.
            var expected = new OwnershipRecord(run.VmId, run.Record.SourceHost, run.Record.Epoch, null, default)
            {
                Revision = run.Connection!.Ticket.RegistryRevision ?? 0,
            };
            move = await _registry.TryMoveAsync(expected, Host, run.Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
        {
            // The swap may have been applied with its answer lost (a consensus store past its deadline, a file written but
            // not flushed): destroying this copy now could leave none once the source, asking the registry, rolls forward.
            throw new MigrationInDoubtException(run.Id, run.VmId, "the commit was sent to the ownership registry, which did not " +
                $"answer ({e.Message}); the copy here stays paused until recovery can ask the registry", e);
        }

        if (!move.Moved)
        {
            return await RollBackDestinationAsync(run, $"the source took the VM back before the commit ({Describe(move.Current)})",
                peerKnows: false).ConfigureAwait(false);
        }

        // The epoch is ours: from here on the only way is forward, whatever fails.
        byte[] epoch = new byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(epoch, (ulong)move.Current!.Epoch);
        run.Record = run.Record with { RegistryRevision = move.Current.Revision > 0 ? move.Current.Revision : null };
        // The registry holds the commit, so the source may hear of it while the checkpoint is written (a crash before that
        // leaves SwitchingOver, whose recovery asks the registry and rolls forward); the VM runs only after both.
        Task committed = TryStepAsync(run, MigrationPhase.Committed).AsTask();
        // Admission's slot is freed before the source hears of the commit: a source that starts its next migration as soon
        // as this one ends finds it free here, not still held while this host runs the VM and cleans up.
        Complete(run, MigrationOutcome.Succeeded);
        await WhileCheckpointingAsync(committed, async () =>
        {
            try
            {
                await wire.SendAsync(FrameType.Committed, epoch, CancellationToken.None).ConfigureAwait(false);
            }
            catch (MigrationAbortedException)
            {
                // The source asks the registry when the acknowledgement does not arrive.
            }
        }).ConfigureAwait(false);

        return await RollForwardDestinationAsync(run).ConfigureAwait(false);
    }

    private async Task<MigrationResult> RollForwardDestinationAsync(MigrationRun run)
    {
        if (run.Record.Phase == MigrationPhase.Committed && run.Record.RegistryRevision is { } token)
        {
            await CheckFencingTokenAsync(run, token).ConfigureAwait(false);
        }

        await _driver.ActivateDestinationAsync(run.VmId).ConfigureAwait(false);
        if (run.Record.Phase == MigrationPhase.Committed)
        {
            await TryStepAsync(run, MigrationPhase.Cleaned).ConfigureAwait(false);
        }

        if (run.Record.Phase == MigrationPhase.Cleaned)
        {
            await TryStepAsync(run, MigrationPhase.Completed).ConfigureAwait(false);
        }

        Complete(run, MigrationOutcome.Succeeded);
        return new MigrationResult(run.Id, run.VmId, MigrationRole.Destination, MigrationStatus.Completed, null, run.Bytes,
            run.Record.Epoch + 1);
    }

    /// <summary>
    /// Checks, just before the VM runs here, that the registry still holds the record this host's commit wrote, at the
    /// commit's revision (the fencing token): only this host writes it from the commit on, so any other record (an earlier
    /// record put back, a record forged by a host that can write the registry) means the registry no longer backs this copy,
    /// and it stays paused in doubt rather than run beside one the registry now names. Not even the commit's own record written
    /// again: signed bytes can be put back by anyone who can write etcd, after the source resumed on an older record.
    /// </summary>
    private async ValueTask CheckFencingTokenAsync(MigrationRun run, long token)
    {
        OwnershipRecord? current;
        try
        {
            current = await _registry.GetAsync(run.VmId).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OwnershipRegistryException or UnauthorizedAccessException)
        {
            throw new MigrationInDoubtException(run.Id, run.VmId, $"the ownership registry could not be read to check the commit's " +
                $"fencing token ({e.Message}); the copy here stays paused until recovery can", e);
        }

        if (current is not null && current.MigrationId == run.Id && current.Epoch == run.Record.Epoch + 1 &&
            string.Equals(current.Owner, Host, StringComparison.Ordinal) && current.Revision == token)
        {
            run.Record = run.Record with { RegistryRevision = current.Revision };
            return;
        }

        throw new MigrationInDoubtException(run.Id, run.VmId,
            $"this host committed the VM at registry revision {token}, but the registry now shows " +
            $"{(current is null ? "no record" : $"{Describe(current)} at revision {current.Revision}")}: the record was written " +
            "after the commit by someone other than this host. The copy here stays paused; find who wrote the record (etcd's " +
            "audit), then recover");
    }

    private async Task<MigrationResult> RollBackDestinationAsync(MigrationRun run, string reason, bool peerKnows)
    {
        if (!peerKnows && run.Wire is { } wire)
        {
            await wire.TrySendAbortAsync(reason).ConfigureAwait(false);
        }

        if (!run.Journaled)
        {
            Complete(run, MigrationOutcome.Cancelled);
            return Refused(run.Id, run.VmId, MigrationRole.Destination, reason, run.Record.Epoch);
        }

        if (run.Record.Phase != MigrationPhase.RollingBack)
        {
            await TryStepAsync(run, MigrationPhase.RollingBack, reason).ConfigureAwait(false);
        }

        await DestroyPartialCopyAsync(run.Id, run.VmId, run.Prepared).ConfigureAwait(false);
        await TryStepAsync(run, MigrationPhase.RolledBack, reason).ConfigureAwait(false);
        Complete(run, MigrationOutcome.Failed);
        return new MigrationResult(run.Id, run.VmId, MigrationRole.Destination, MigrationStatus.RolledBack, reason, run.Bytes,
            run.Record.Epoch);
    }

    /// <summary>
    /// Destroys this migration's copy: one still loading, or loaded but never committed. Only a copy this migration
    /// prepared is its own: a VM waiting for a migration that this one never reached (its admission was denied, a hook
    /// vetoed it) belongs to whoever comes next, and a running VM of the same id runs only after a commit, so both are
    /// left alone.
    /// </summary>
    private async ValueTask DestroyPartialCopyAsync(Guid migrationId, string vmId, bool prepared)
    {
        if (!prepared)
        {
            return;
        }

        VmStatus status = await _driver.QueryAsync(vmId).ConfigureAwait(false);
        if (status.State is VmRunState.Incoming or VmRunState.Paused)
        {
            IReadOnlyList<string> images = await _driver.DestroyDestinationAsync(vmId).ConfigureAwait(false);
            await DisposeResidueAsync(migrationId, vmId, ResidueKind.PartialImage, images).ConfigureAwait(false);
        }
        else if (status.State == VmRunState.Stopped && status.Images.Count > 0)
        {
            // Destroyed before a crash, residue not yet disposed of.
            await DisposeResidueAsync(migrationId, vmId, ResidueKind.PartialImage, status.Images).ConfigureAwait(false);
        }
    }
}
