
namespace SecureMigration.Coordination.Drivers;

/// <summary>
/// How the coordinator reaches a hypervisor; a vendor implements it (QEMU: <c>SecureMigration.Qemu</c>; tests and the
/// demo: <see cref="Simulation.SimulatedHypervisor"/>). The coordinator carries the migration stream between the two
/// drivers through the secure channel, so a driver only produces or consumes it. Every method may be called again
/// after a crash (recovery), so each must be idempotent.
/// </summary>
public interface IHypervisorDriver
{
    /// <summary>
    /// Source: starts the outgoing migration and hands over the hypervisor's stream. The stream ends once the
    /// hypervisor has sent everything and paused the VM (stop-and-copy); the source copy stays paused, not discarded.
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The migration stream, to read to its end.</returns>
    ValueTask<Stream> StartOutgoingAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Source, rollback: cancels any outgoing migration and runs the VM again. Called only while this host holds the epoch.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the VM runs.</returns>
    ValueTask ResumeSourceAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Source, after commit: stops the VM for good so nothing can resume it; returns the files it leaves behind.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The residue files (the old image) for the residue handler.</returns>
    ValueTask<IReadOnlyList<string>> DiscardSourceAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Destination: prepares a VM that waits for the incoming stream and cannot run; returns where to write the stream.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The incoming stream, to write to and dispose.</returns>
    ValueTask<Stream> PrepareDestinationAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Destination: after the incoming stream was written and disposed, waits until the hypervisor loaded it; the VM is then paused, not running.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the VM is loaded; it fails when the hypervisor refused the stream.</returns>
    ValueTask FinishIncomingAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Destination, after commit: runs the VM. Called only once this host holds the epoch.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the VM runs.</returns>
    ValueTask ActivateDestinationAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Destination, rollback: stops the partial copy for good; returns the files it leaves behind.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The residue files (the partial image) for the residue handler.</returns>
    ValueTask<IReadOnlyList<string>> DestroyDestinationAsync(string vmId, CancellationToken cancellationToken = default);

    /// <summary>Asks the hypervisor what the VM is doing on this host.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>Its state and files.</returns>
    ValueTask<VmStatus> QueryAsync(string vmId, CancellationToken cancellationToken = default);
}
