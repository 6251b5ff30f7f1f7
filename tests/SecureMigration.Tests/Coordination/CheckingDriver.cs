using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination;

/// <summary>A destination's hypervisor whose check of an incoming migration runs <paramref name="check"/> (which may wait or throw)
/// before the inner driver's, and that records whether it prepared the VM.</summary>
internal sealed class CheckingDriver(HypervisorDriver inner, Func<CancellationToken, Task> check) : ForwardingDriver(inner)
{
    private int _prepared;

    public bool Prepared => Volatile.Read(ref _prepared) != 0;

    protected override async ValueTask CheckDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await check(cancellationToken);
        await Inner.CheckDestinationAsync(vmId, cancellationToken);
    }

    protected override ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _prepared, 1);
        return Inner.PrepareDestinationAsync(vmId, cancellationToken);
    }
}
