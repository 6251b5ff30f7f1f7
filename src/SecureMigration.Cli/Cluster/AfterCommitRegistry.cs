using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Cli.Cluster;

/// <summary>
/// An ownership registry that lets a scene act right after a successful move (the demo's attacker drops the
/// acknowledgement there); otherwise it is the registry it wraps.
/// </summary>
internal sealed class AfterCommitRegistry(IOwnershipRegistry inner) : IOwnershipRegistry
{
    /// <summary>Gets or sets what runs after the next successful move, once.</summary>
    public Func<OwnershipRecord, ValueTask>? AfterNextMove { get; set; }

    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) => inner.GetAsync(vmId,
        cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        OwnershipMove move = await inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId,
            cancellationToken).ConfigureAwait(false);
        if (move.Moved && AfterNextMove is { } act)
        {
            AfterNextMove = null;
            await act(move.Current!).ConfigureAwait(false);
        }

        return move;
    }
}
