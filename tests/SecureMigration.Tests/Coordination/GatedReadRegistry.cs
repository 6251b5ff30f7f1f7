using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>A registry that, before it reads a record (<see cref="IOwnershipRegistry.GetAsync"/>), waits for
/// <paramref name="beforeRead"/>.</summary>
internal sealed class GatedReadRegistry(IOwnershipRegistry inner, Func<Task> beforeRead) : MoveFaultRegistry(inner)
{
    public override async ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default)
    {
        await beforeRead();
        return await base.GetAsync(vmId, cancellationToken);
    }

    protected override ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move) => move();
}
