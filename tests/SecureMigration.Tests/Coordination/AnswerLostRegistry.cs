using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A registry whose first compare-and-swap is applied but whose answer is lost (a consensus store past its deadline, a
/// file renamed but its directory not flushed): the caller sees an <see cref="IOException"/> for a move that happened.
/// </summary>
internal sealed class AnswerLostRegistry(IOwnershipRegistry inner) : MoveFaultRegistry(inner)
{
    private int _lost;

    public override async ValueTask<OwnershipMove> TryMoveAsync(string vmId, long expectedEpoch, string expectedOwner, string newOwner,
        Guid migrationId, CancellationToken cancellationToken = default)
    {
        OwnershipMove move = await Inner.TryMoveAsync(vmId, expectedEpoch, expectedOwner, newOwner, migrationId, cancellationToken);
        return Interlocked.Exchange(ref _lost, 1) == 0 ? throw new IOException("the registry applied the move, but its answer was lost")
            : move;
    }
}
