using SecureMigration.Audit;

namespace SecureMigration.Tests.Audit;

/// <summary>
/// An audit sink in front of another whose appends, once <see cref="Hold"/> is called, wait until <see cref="Release"/> (a
/// slow disk); it records the event names it was asked to append, in order, and can be told to fail one event.
/// </summary>
internal sealed class HeldAuditSink(IAuditSink inner) : IAuditSink
{
    private readonly Lock _gate = new();
    private readonly List<string> _asked = [];
    private TaskCompletionSource _released = Released();
    private TaskCompletionSource _firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets the events asked to be appended so far, in order.</summary>
    public IReadOnlyList<string> Asked
    {
        get
        {
            lock (_gate)
            {
                return [.. _asked];
            }
        }
    }

    /// <summary>Gets a task that completes when the first append since <see cref="Hold"/> is waiting.</summary>
    public Task FirstHeld => _firstHeld.Task;

    /// <summary>Gets or sets an event whose appends throw <see cref="IOException"/>.</summary>
    public string? Failing { get; set; }

    /// <summary>Makes every append from now on wait for <see cref="Release"/>.</summary>
    public void Hold()
    {
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _firstHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Lets the waiting appends (and the later ones) through.</summary>
    public void Release() => _released.TrySetResult();

    public async ValueTask<AuditEntry> AppendAsync(Guid? migrationId, string? vmId, string eventName, string? detail = null,
        CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _asked.Add(eventName);
        }

        _firstHeld.TrySetResult();
        await _released.Task;
        return eventName == Failing
            ? throw new IOException("no space left on the audit's disk")
            : await inner.AppendAsync(migrationId, vmId, eventName, detail, cancellationToken);
    }

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        return released;
    }
}
