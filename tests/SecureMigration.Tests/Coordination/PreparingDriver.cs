using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination;

/// <summary>A source's hypervisor whose preparation of the outgoing migration runs <paramref name="prepare"/> (which may wait or
/// throw) before the inner driver's.</summary>
internal sealed class PreparingDriver(HypervisorDriver inner, Func<CancellationToken, Task> prepare) : ForwardingDriver(inner)
{
    protected override async ValueTask PrepareOutgoingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await prepare(cancellationToken);
        await Inner.PrepareOutgoingAsync(vmId, cancellationToken);
    }
}
