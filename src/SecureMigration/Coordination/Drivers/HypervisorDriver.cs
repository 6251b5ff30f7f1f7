using SecureMigration.Text;

namespace SecureMigration.Coordination.Drivers;

/// <summary>
/// How the coordinator reaches a hypervisor; a vendor derives from it (QEMU: <c>SecureMigration.Qemu</c>; tests and
/// the demo: <c>SimulatedHypervisor</c> of <c>SecureMigration.Testing</c>). The coordinator carries the migration stream
/// between the two drivers through the secure channel, so a driver only produces or consumes it. Every method may be
/// called again after a crash (recovery), so each must be idempotent.
/// </summary>
/// <remarks>
/// As <c>System.Threading.RateLimiting</c> does, each public method is non-virtual: it checks the VM id and the
/// cancellation token, calls the protected <c>…CoreAsync</c> member a driver implements, and checks what comes back
/// (a stream that exists; residue paths that are absolute and name no directory of the file system's root), so no driver
/// can hand the coordinator a null stream or point the sanitizer at a relative path.
/// </remarks>
public abstract class HypervisorDriver
{
    /// <summary>
    /// Source: readies the outgoing migration while the channel to the destination opens (checks that the VM can leave,
    /// applies the migration's settings), so that <see cref="StartOutgoingAsync"/>, once the destination is ready, has only
    /// to start it. The VM keeps running and nothing needs undoing if the migration goes no further. Optional: by default
    /// it does nothing and <see cref="StartOutgoingAsync"/> does everything.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the migration is ready to start.</returns>
    public ValueTask PrepareOutgoingAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return PrepareOutgoingCoreAsync(vmId, cancellationToken);
    }

    /// <summary>
    /// Source: starts the outgoing migration and hands over the hypervisor's stream. The stream ends once the
    /// hypervisor has sent everything and paused the VM (stop-and-copy); the source copy stays paused, not discarded.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The migration stream, to read to its end.</returns>
    public async ValueTask<Stream> StartOutgoingAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return await StartOutgoingCoreAsync(vmId, cancellationToken).ConfigureAwait(false)
            ?? throw Broken(nameof(StartOutgoingCoreAsync), "returned no stream");
    }

    /// <summary>Source, rollback: cancels any outgoing migration and runs the VM again. Called only while this host holds the
    /// epoch.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the VM runs.</returns>
    public ValueTask ResumeSourceAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return ResumeSourceCoreAsync(vmId, cancellationToken);
    }

    /// <summary>Source, after commit: stops the VM for good so nothing can resume it; returns the files it leaves behind.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The residue files (the old image) for the residue handler.</returns>
    public async ValueTask<IReadOnlyList<string>> DiscardSourceAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return CheckResidue(await DiscardSourceCoreAsync(vmId, cancellationToken).ConfigureAwait(false), nameof(DiscardSourceCoreAsync));
    }

    /// <summary>
    /// Destination: checks, changing nothing, that the VM can receive the migration (the coordinator runs it while it journals the
    /// migration's first checkpoint, before <see cref="PrepareDestinationAsync"/>); a failure ends the migration before anything
    /// was touched.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the checks passed.</returns>
    public ValueTask CheckDestinationAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return CheckDestinationCoreAsync(vmId, cancellationToken);
    }

    /// <summary>Destination: prepares a VM that waits for the incoming stream and cannot run; returns where to write the stream.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The incoming stream, to write to and dispose.</returns>
    public async ValueTask<Stream> PrepareDestinationAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return await PrepareDestinationCoreAsync(vmId, cancellationToken).ConfigureAwait(false)
            ?? throw Broken(nameof(PrepareDestinationCoreAsync), "returned no stream");
    }

    /// <summary>Destination: after the incoming stream was written and disposed, waits until the hypervisor loaded it; the VM is then
    /// paused, not running.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the VM is loaded; it fails when the hypervisor refused the stream.</returns>
    public ValueTask FinishIncomingAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return FinishIncomingCoreAsync(vmId, cancellationToken);
    }

    /// <summary>Destination, after commit: runs the VM. Called only once this host holds the epoch.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the VM runs.</returns>
    public ValueTask ActivateDestinationAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return ActivateDestinationCoreAsync(vmId, cancellationToken);
    }

    /// <summary>Destination, rollback: stops the partial copy for good; returns the files it leaves behind.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The residue files (the partial image) for the residue handler.</returns>
    public async ValueTask<IReadOnlyList<string>> DestroyDestinationAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return CheckResidue(await DestroyDestinationCoreAsync(vmId, cancellationToken).ConfigureAwait(false),
            nameof(DestroyDestinationCoreAsync));
    }

    /// <summary>Asks the hypervisor what the VM is doing on this host.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>Its state and files.</returns>
    public async ValueTask<VmStatus> QueryAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Check(vmId, cancellationToken);
        return await QueryCoreAsync(vmId, cancellationToken).ConfigureAwait(false)
            ?? throw Broken(nameof(QueryCoreAsync), "returned no status");
    }

    /// <summary>Implements <see cref="PrepareOutgoingAsync"/>; does nothing unless overridden. A driver that prepares here must
    /// still be correct when <see cref="StartOutgoingCoreAsync"/> is called without it.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="PrepareOutgoingAsync"/>.</returns>
    protected virtual ValueTask PrepareOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Implements <see cref="StartOutgoingAsync"/>: /// Source: starts the outgoing migration and hands over the hypervisor's
    /// stream. The stream ends once the
    /// hypervisor has sent everything and paused the VM (stop-and-copy); the source copy stays paused, not discarded.
    ///</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="StartOutgoingAsync"/>.</returns>
    protected abstract ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="ResumeSourceAsync"/>: Source, rollback: cancels any outgoing migration and runs the VM again. Called
    /// only while this host holds the epoch.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="ResumeSourceAsync"/>.</returns>
    protected abstract ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="DiscardSourceAsync"/>: Source, after commit: stops the VM for good so nothing can resume it; returns
    /// the files it leaves behind.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="DiscardSourceAsync"/>.</returns>
    protected abstract ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="CheckDestinationAsync"/>; does nothing unless overridden. A driver that checks here must still be
    /// correct when <see cref="PrepareDestinationCoreAsync"/> is called without it.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="CheckDestinationAsync"/>.</returns>
    protected virtual ValueTask CheckDestinationCoreAsync(string vmId, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Implements <see cref="PrepareDestinationAsync"/>: Destination: prepares a VM that waits for the incoming stream and cannot
    /// run; returns where to write the stream.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="PrepareDestinationAsync"/>.</returns>
    protected abstract ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="FinishIncomingAsync"/>: Destination: after the incoming stream was written and disposed, waits until
    /// the hypervisor loaded it; the VM is then paused, not running.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="FinishIncomingAsync"/>.</returns>
    protected abstract ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="ActivateDestinationAsync"/>: Destination, after commit: runs the VM. Called only once this host holds
    /// the epoch.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="ActivateDestinationAsync"/>.</returns>
    protected abstract ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="DestroyDestinationAsync"/>: Destination, rollback: stops the partial copy for good; returns the files
    /// it leaves behind.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="DestroyDestinationAsync"/>.</returns>
    protected abstract ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken);

    /// <summary>Implements <see cref="QueryAsync"/>: asks the hypervisor what the VM is doing on this host.</summary>
    /// <param name="vmId">The VM, a valid id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>See <see cref="QueryAsync"/>.</returns>
    protected abstract ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken);

    private static void Check(string vmId, CancellationToken cancellationToken)
    {
        VmIds.EnsureValid(vmId);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private IReadOnlyList<string> CheckResidue(IReadOnlyList<string>? residue, string member)
    {
        if (residue is null)
        {
            throw Broken(member, "returned no residue list (return an empty one when nothing is left)");
        }

        foreach (string path in residue)
        {
            if (string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path) || Path.GetDirectoryName(Path.GetFullPath(path)) is null)
            {
                throw Broken(member, $"returned the residue path '{Text.UntrustedText.Bound(path ?? "", 200)}', which is not an absolute " +
                    $"path to a file");
            }
        }

        return residue;
    }

    private InvalidOperationException Broken(string member, string what) =>
        new($"The hypervisor driver {GetType().Name}.{member} {what}; the driver is broken, so nothing was done with its answer.");
}
