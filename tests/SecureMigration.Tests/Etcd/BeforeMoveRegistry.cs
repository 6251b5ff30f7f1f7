using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Etcd;

/// <summary>
/// A registry that runs a fault (kill etcd's leader, take its quorum away) just before the first compare-and-swap it
/// is asked for, which for a destination is its commit: the fault lands at the commit whatever the machine's speed.
/// </summary>
internal sealed class BeforeMoveRegistry(IOwnershipRegistry inner, Func<Task> fault) : IOwnershipRegistry, IJournalAnchor
{
    private int _faulted;

    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.GetAsync(vmId, cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _faulted, 1) == 0)
        {
            await fault();
        }

        return await inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken);
    }

    public ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default) =>
        ((IJournalAnchor)inner).GetHeadAsync(journal, cancellationToken);

    public ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default) =>
        ((IJournalAnchor)inner).AnchorHeadAsync(journal, head, cancellationToken);
}
