using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>A registry that a host can read but cannot reach for a compare-and-swap while <see cref="Down"/> is set.</summary>
internal sealed class UnreachableRegistry(IOwnershipRegistry inner) : IOwnershipRegistry
{
    public bool Down { get; set; } = true;

    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) => inner.GetAsync(vmId,
        cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default) =>
        Down ? throw new IOException("the registry's file system is unreachable") : inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner,
            newOwner, migrationId, cancellationToken);
}
