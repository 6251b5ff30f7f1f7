using System.Collections.Concurrent;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Cli.Live;

/// <summary>
/// The VMs this process has seen in the ownership registry: a VM is registered to this host (when the registry does not know it
/// yet) before its first migration from here, and not read for that again. A registry only ever replaces a record, never removes
/// it, so a VM it knew stays known; the coordinator reads the record itself at the start of every migration, and refuses a VM the
/// registry no longer knows. A warm agent saves one registry read (a signed record's verification) per migration.
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
}
