using SecureMigration.Coordination.Ownership;
using SecureMigration.Tests.Coordination;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// A registry that runs a fault just before the first compare-and-swap it is asked for (kill etcd's leader, take its
/// quorum away, put an old record back), or just after that swap moved the epoch: for a destination that is its commit,
/// for a source its take-back, so the fault lands there whatever the machine's speed.
/// </summary>
internal sealed class FaultAtMoveRegistry(IOwnershipRegistry inner, Func<Task>? before = null, Func<Task>? after = null)
    : MoveFaultRegistry(inner)
{
    private int _moves;

    protected override async ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move)
    {
        bool first = Interlocked.Increment(ref _moves) == 1;
        if (first && before is not null)
        {
            await before();
        }

        OwnershipMove moved = await move();
        if (first && moved.Moved && after is not null)
        {
            await after();
        }

        return moved;
    }
}
