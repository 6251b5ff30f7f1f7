namespace SecureMigration.Tests.Etcd.Linearizability;

/// <summary>
/// Collects the operations of concurrent clients, each with its call and return stamped from one shared counter: the
/// counter's order is real time as the clients saw it, which is all a linearizability check needs.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly Lock _gate = new();
    private readonly List<(string Vm, RegisterOperation Operation)> _history = [];
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private long _clock;

    public IReadOnlyList<(string Vm, RegisterOperation Operation)> History
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>The next position on the shared counter.</summary>
    public long Tick() => Interlocked.Increment(ref _clock);

    public void Add(string vm, RegisterOperation operation)
    {
        TaskCompletionSource[] reached;
        lock (_gate)
        {
            _history.Add((vm, operation));
            reached = [.. _waiters.Where(w => w.Count <= _history.Count).Select(w => w.Reached)];
            _waiters.RemoveAll(w => w.Count <= _history.Count);
        }

        foreach (TaskCompletionSource waiter in reached)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Completes once <paramref name="count"/> operations are recorded.</summary>
    public Task WhenCountAsync(int count)
    {
        lock (_gate)
        {
            if (_history.Count >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task;
        }
    }
}
