using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination;

/// <summary>A hypervisor whose every query of a VM's state first completes <paramref name="queried"/>.</summary>
internal sealed class QuerySignallingDriver(HypervisorDriver inner, TaskCompletionSource queried) : ForwardingDriver(inner)
{
    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        queried.TrySetResult();
        return Inner.QueryAsync(vmId, cancellationToken);
    }
}
