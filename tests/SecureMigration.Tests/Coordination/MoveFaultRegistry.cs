using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A registry that forwards everything to <paramref name="inner"/> but its compare-and-swap, which a test double
/// overrides to inject a fault there (the commit). Journal anchors pass through when the inner registry keeps them.
/// </summary>
internal abstract class MoveFaultRegistry(IOwnershipRegistry inner) : IOwnershipRegistry, IJournalAnchor
{
    protected IOwnershipRegistry Inner => inner;

    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.GetAsync(vmId, cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public abstract ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default);

    public ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default) =>
        inner is IJournalAnchor anchor ? anchor.GetHeadAsync(journal, cancellationToken) : ValueTask.FromResult<JournalHead?>(null);

    public ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default) =>
        inner is IJournalAnchor anchor ? anchor.AnchorHeadAsync(journal, head, cancellationToken) : ValueTask.CompletedTask;
}
