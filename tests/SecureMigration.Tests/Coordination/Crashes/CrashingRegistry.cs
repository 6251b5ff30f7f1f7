using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination.Crashes;

/// <summary>An ownership registry seen from a host that may die just before or just after a compare-and-swap.</summary>
internal sealed class CrashingRegistry(IOwnershipRegistry inner, CrashPlan plan) : IOwnershipRegistry
{
    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) => inner.GetAsync(vmId,
        cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        plan.Step("before TryMove");
        OwnershipMove move = await inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken);
        plan.Step("after TryMove");
        return move;
    }
}
