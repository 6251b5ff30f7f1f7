using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Testing.InMemory;

/// <summary>An ownership registry kept in memory, shared by the hosts of one test: an atomic compare-and-swap on the epoch.</summary>
public sealed class InMemoryOwnershipRegistry(TimeProvider timeProvider) : IOwnershipRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, OwnershipRecord> _records = [];
    private readonly string _id = Guid.NewGuid().ToString("N");

    /// <inheritdoc />
    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(_id);

    /// <inheritdoc />
    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_records.GetValueOrDefault(vmId));
        }
    }

    /// <inheritdoc />
    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(vmId, out OwnershipRecord? record))
            {
                record = new OwnershipRecord(vmId, owner, 1, null, timeProvider.GetUtcNow());
                _records[vmId] = record;
            }

            return ValueTask.FromResult(record);
        }
    }

    /// <inheritdoc />
    public ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_records.TryGetValue(vmId, out OwnershipRecord? current) || current.Epoch != expectedEpoch ||
                current.Owner != expectedOwner)
            {
                return ValueTask.FromResult(new OwnershipMove(false, current));
            }

            var moved = new OwnershipRecord(vmId, newOwner, expectedEpoch + 1, migrationId, timeProvider.GetUtcNow());
            _records[vmId] = moved;
            return ValueTask.FromResult(new OwnershipMove(true, moved));
        }
    }
}
