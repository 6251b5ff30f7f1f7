using SecureMigration.Coordination.Ownership;
using SecureMigration.Tests.Coordination;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// A registry that runs a fault (kill etcd's leader, take its quorum away) just before the first compare-and-swap it
/// is asked for, which for a destination is its commit: the fault lands at the commit whatever the machine's speed.
/// </summary>
internal sealed class BeforeMoveRegistry(IOwnershipRegistry inner, Func<Task> fault) : MoveFaultRegistry(inner)
{
    private int _faulted;

    public override async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _faulted, 1) == 0)
        {
            await fault();
        }

        return await Inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken);
    }
}
