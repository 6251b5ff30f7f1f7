using SecureMigration.Coordination;

namespace SecureMigration.Tests.Coordination;

/// <summary>An ownership registry that calls back after every successful move, to stage faults at the commit point.</summary>
internal sealed class ObservedRegistry(IOwnershipRegistry inner, Action<OwnershipRecord> afterMove) : IOwnershipRegistry
{
    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) => inner.GetAsync(vmId, cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) => inner.RegisterAsync(vmId, owner, cancellationToken);

    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner, Guid migrationId, CancellationToken cancellationToken = default)
    {
        OwnershipMove move = await inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken);
        if (move.Moved)
        {
            afterMove(move.Current!);
        }

        return move;
    }
}
