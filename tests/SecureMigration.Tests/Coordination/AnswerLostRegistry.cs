using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A registry whose first compare-and-swap is applied but whose answer is lost (a consensus store past its deadline, a
/// file renamed but its directory not flushed): the caller sees an <see cref="IOException"/> for a move that happened.
/// </summary>
internal sealed class AnswerLostRegistry(IOwnershipRegistry inner) : MoveFaultRegistry(inner)
{
    private int _lost;

    protected override async ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move)
    {
        OwnershipMove moved = await move();
        return Interlocked.Exchange(ref _lost, 1) == 0 ? throw new IOException("the registry applied the move, but its answer was lost")
            : moved;
    }
}
