using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A registry whose first compare-and-swap is applied but whose answer is lost (a consensus store past its deadline, a
/// file renamed but its directory not flushed): the caller sees an <see cref="IOException"/> for a move that happened.
/// </summary>
internal sealed class AnswerLostRegistry(IOwnershipRegistry inner) : IOwnershipRegistry
{
    private int _lost;

    public ValueTask<string> GetIdAsync(CancellationToken cancellationToken = default) => inner.GetIdAsync(cancellationToken);

    public ValueTask<OwnershipRecord?> GetAsync(string vmId, CancellationToken cancellationToken = default) =>
        inner.GetAsync(vmId, cancellationToken);

    public ValueTask<OwnershipRecord> RegisterAsync(string vmId, string owner, CancellationToken cancellationToken = default) =>
        inner.RegisterAsync(vmId, owner, cancellationToken);

    public async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        OwnershipMove move = await inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken);
        return Interlocked.Exchange(ref _lost, 1) == 0 ? throw new IOException("the registry applied the move, but its answer was lost")
            : move;
    }
}
