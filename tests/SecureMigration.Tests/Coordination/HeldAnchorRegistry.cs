using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Ownership;

namespace SecureMigration.Tests.Coordination;

/// <summary>
/// A registry whose journal anchors, once <see cref="Hold"/> is called, wait until <see cref="Release"/> (a registry that
/// answers slowly); it counts the anchor writes asked of it from then on.
/// </summary>
internal sealed class HeldAnchorRegistry(IOwnershipRegistry inner) : MoveFaultRegistry(inner)
{
    private TaskCompletionSource _released = Released();
    private int _writes;

    /// <summary>Gets how many anchor writes were asked since <see cref="Hold"/>.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Makes every anchor write from now on wait for <see cref="Release"/>.</summary>
    public void Hold()
    {
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _writes, 0);
    }

    /// <summary>Lets the waiting anchor writes (and the later ones) through.</summary>
    public void Release() => _released.TrySetResult();

    public override async ValueTask AnchorHeadAsync(string journal, JournalHead head, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        await _released.Task;
        await base.AnchorHeadAsync(journal, head, cancellationToken);
    }

    protected override ValueTask<OwnershipMove> AroundMoveAsync(Func<ValueTask<OwnershipMove>> move) => move();

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        return released;
    }
}
