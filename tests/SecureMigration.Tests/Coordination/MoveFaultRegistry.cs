using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A registry that forwards everything to <paramref name="inner"/>, and its compare-and-swap (in either form) through
/// <see cref="AroundMoveAsync"/>, where a test double injects a fault (the commit). Journal anchors pass through when the
/// inner registry keeps them.
/// </summary>
internal abstract class MoveFaultRegistry(IOwnershipRegistry inner) : IOwnershipRegistry, IJournalAnchor
{
    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public virtual ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.GetAsync(vmId, cancellationToken);

    public virtual ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default) =>
        AroundMoveAsync(() => inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken));

    /// <summary>A move bound to the record read: its revision passes on to the inner registry, which a plain forward of epoch
    /// and owner would drop.</summary>
    public ValueTask<OwnershipMove> TryMoveAsync(OwnershipRecord expected, string newOwner, Guid migrationId,
        CancellationToken cancellationToken = default) =>
        AroundMoveAsync(() => inner.TryMoveAsync(expected, newOwner, migrationId, cancellationToken));

    /// <summary>Runs <paramref name="move"/>, the inner registry's swap in either form, with the double's fault around it.</summary>
    protected abstract ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move);

    public ValueTask<JournalHead?> GetHeadAsync(string journal, CancellationToken cancellationToken = default) =>
        inner is IJournalAnchor anchor ? anchor.GetHeadAsync(journal, cancellationToken) : ValueTask.FromResult<JournalHead?>(null);

    public virtual ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default) =>
        inner is IJournalAnchor anchor ? anchor.AnchorHeadAsync(journal, head, cancellationToken) : ValueTask.CompletedTask;
}
