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

    /// <summary>A move bound to the record read (and its revision); by default it passes the revision on to the inner registry,
    /// which a plain forward of epoch and owner would drop.</summary>
    public virtual ValueTask<OwnershipMove> TryMoveAsync(OwnershipRecord expected, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default) =>
        inner.TryMoveAsync(expected, newOwner, migrationId, cancellationToken);

    public ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default) =>
        inner is IJournalAnchor anchor ? anchor.GetHeadAsync(journal, cancellationToken) : ValueTask.FromResult<JournalHead?>(null);

    public ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default) =>
        inner is IJournalAnchor anchor ? anchor.AnchorHeadAsync(journal, head, cancellationToken) : ValueTask.CompletedTask;
}
