using System.Collections.Concurrent;
using System.Net.Sockets;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Cli.Live;

/// <summary>
/// The VMs this process has seen in the ownership registry: a VM is registered to this host (when the registry does not know it
/// yet) before its first migration from here, and not read for that again. A registry only ever replaces a record, never removes
/// it, so a VM it knew stays known; the coordinator reads the record itself at the start of every migration, and refuses a VM the
/// registry no longer knows. The agent registers a served VM as soon as it sees it running here
/// (<see cref="RegisterRunningAsync"/>), so that even its first migration does not wait for the registry's write.
/// </summary>
/// <param name="registry">The shared ownership registry.</param>
/// <param name="hostId">This host, the owner a VM unknown to the registry is registered to.</param>
internal sealed class RegisteredVms(IOwnershipRegistry registry, string hostId)
{
    private readonly ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="vmId"/> to this host if the registry does not know it, unless it knew it before.</summary>
    /// <param name="vmId">The VM; its callers bound how many there are (the VMs this host serves).</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>A task that completes once the registry knows the VM.</returns>
    public async ValueTask EnsureAsync(string vmId, CancellationToken cancellationToken)
    {
        if (_known.ContainsKey(vmId))
        {
            return;
        }

        await registry.RegisterAsync(vmId, hostId, cancellationToken).ConfigureAwait(false);
        _known.TryAdd(vmId, true);
    }

    /// <summary>
    /// Until cancelled, every <paramref name="interval"/>: <see cref="RegisterRunningOnceAsync"/>.
    /// </summary>
    /// <param name="driver">This host's hypervisor.</param>
    /// <param name="served">The VMs this host serves.</param>
    /// <param name="interval">How long between looks.</param>
    /// <param name="time">The clock.</param>
    /// <param name="cancellationToken">Stops it.</param>
    /// <returns>A task that completes once cancelled.</returns>
    public async Task RegisterRunningAsync(HypervisorDriver driver, IReadOnlyList<string> served, TimeSpan interval, TimeProvider time,
        CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await RegisterRunningOnceAsync(driver, served, cancellationToken).ConfigureAwait(false);
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopped
        }
    }

    /// <summary>
    /// Asks the hypervisor about each served VM not known yet and registers (<see cref="EnsureAsync"/>) those that run here: only
    /// a running VM, never one that waits for an incoming migration (its source owns it). A VM the hypervisor or the registry
    /// cannot answer for is asked again next time; its migration, if one is asked first, says why.
    /// </summary>
    /// <param name="driver">This host's hypervisor.</param>
    /// <param name="served">The VMs this host serves.</param>
    /// <param name="cancellationToken">Stops it.</param>
    /// <returns>A task that completes once each was asked.</returns>
    public async Task RegisterRunningOnceAsync(HypervisorDriver driver, IReadOnlyList<string> served, CancellationToken cancellationToken)
    {
        foreach (string vmId in served.Where(vm => !_known.ContainsKey(vm)))
        {
            try
            {
                if ((await driver.QueryAsync(vmId, cancellationToken).ConfigureAwait(false)).State == VmRunState.Running)
                {
                    await EnsureAsync(vmId, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is MigrationException or IOException or SocketException or OwnershipRegistryException or
                UnauthorizedAccessException)
            {
                // Asked again at the next look.
            }
        }
    }
}
