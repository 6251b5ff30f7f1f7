namespace SecureMigration.Threading;

/// <summary>
/// Writes work handed over by many callers one item at a time, off their paths: a caller hands an item over and goes on;
/// one writer task, started when the first item arrives and ended when none is left, takes the items in the order the
/// derived class gives them (<see cref="TryTake"/>); <see cref="FlushAsync"/> waits for every item handed over so far.
/// A derived class keeps its pending items; every call that touches them runs under the writer's lock.
/// </summary>
/// <typeparam name="T">An item of work.</typeparam>
internal abstract class SerialWriter<T>
{
    private readonly Lock _gate = new();
    private bool _writing;
    private Task _writer = Task.CompletedTask;

    /// <summary>Waits until every item handed over so far was written (or its write failed and was reported).</summary>
    public Task FlushAsync()
    {
        lock (_gate)
        {
            return _writer;
        }
    }

    /// <summary>Runs <paramref name="add"/> (which adds to the pending items) under the lock, and starts the writer if none runs.</summary>
    protected void Hand(Action add)
    {
        lock (_gate)
        {
            add();
            if (!_writing)
            {
                _writing = true;
                _writer = Task.Run(DrainAsync);
            }
        }
    }

    /// <summary>Takes the next item to write, under the lock; <see langword="false"/> when none is pending.</summary>
    protected abstract bool TryTake(out T item);

    /// <summary>Writes one item; reports its failure itself (nobody awaits the writer to hear of it).</summary>
    protected abstract Task WriteAsync(T item);

    private async Task DrainAsync()
    {
        while (true)
        {
            T item;
            lock (_gate)
            {
                if (!TryTake(out item))
                {
                    _writing = false;
                    return;
                }
            }

            await WriteAsync(item).ConfigureAwait(false);
        }
    }
}
