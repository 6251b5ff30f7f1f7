using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Tests.Coordination;

/// <summary>A destination's hypervisor whose check of an incoming migration runs <paramref name="check"/> (which may wait or throw)
/// before the inner driver's, and that counts its checks and records whether it prepared the VM.</summary>
internal sealed class CheckingDriver(HypervisorDriver inner, Func<CancellationToken, Task> check) : ForwardingDriver(inner)
{
    private int _prepared;
    private int _checks;

    public bool Prepared => Volatile.Read(ref _prepared) != 0;

    public int Checks => Volatile.Read(ref _checks);

    protected override async ValueTask CheckDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _checks);
        await check(cancellationToken);
        await Inner.CheckDestinationAsync(vmId, cancellationToken);
    }

    protected override ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _prepared, 1);
        return Inner.PrepareDestinationAsync(vmId, cancellationToken);
    }
}
