using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>A registry that counts the records read through it (<see cref="IOwnershipRegistry.GetAsync"/>).</summary>
internal sealed class ReadCountingRegistry(IOwnershipRegistry inner) : MoveFaultRegistry(inner)
{
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public override ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _reads);
        return base.GetAsync(vmId, cancellationToken);
    }

    protected override ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move) => move();
}
