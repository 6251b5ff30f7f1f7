using SecureMigration.Cli.Live;

namespace SecureMigration.Cli.Control;

/// <summary>
/// A migration the agent runs for its control API: the lines 'secmig migrate' would print (the last
/// <see cref="MaxLines"/>), its outcome once it ends, and a way to cancel it (it then rolls back). Callers follow it by asking
/// for the lines after the last they saw, waiting for the next.
/// </summary>
internal sealed class OutgoingMigration
{
    /// <summary>The most lines kept; older ones are dropped (a follower that fell that far behind misses them).</summary>
    public const int MaxLines = 1000;

    /// <summary>The longest line kept.</summary>
    public const int MaxLineLength = 2000;

    private readonly Lock _gate = new();
    private readonly Queue<string> _lines = new();
    private int _dropped;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OutgoingMigration(MigrationRequest request, DateTimeOffset requestedAt, CancellationToken stopping)
    {
        Request = request;
        RequestedAt = requestedAt;
        Cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    public Guid Id { get; } = Guid.NewGuid();

    public MigrationRequest Request { get; }

    public DateTimeOffset RequestedAt { get; }

    /// <summary>Gets the source that cancels the migration (DELETE, or the agent stopping).</summary>
    public CancellationTokenSource Cancellation { get; }

    /// <summary>Gets or sets the task that runs it.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Gets how it ended, or <see langword="null"/> while it waits or runs.</summary>
    public MigrateOutcome? Outcome { get; private set; }

    /// <summary>Gets when it left the queue and started, or <see langword="null"/> while it waits.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>Gets when it ended, or <see langword="null"/> until it has.</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>Records that it left the queue.</summary>
    public void Started(DateTimeOffset at)
    {
        lock (_gate)
        {
            StartedAt = at;
            Changed();
        }
    }

    public void Say(string line)
    {
        lock (_gate)
        {
            _lines.Enqueue(Text.UntrustedText.Bound(line, MaxLineLength)); // QEMU's error text is a guest's to choose
            if (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
                _dropped++;
            }

            Changed();
        }
    }

    public void End(MigrateOutcome outcome, DateTimeOffset at)
    {
        lock (_gate)
        {
            Outcome = outcome;
            EndedAt = at;
            Changed();
        }
    }

    /// <summary>The migration with the lines numbered above <paramref name="after"/>; when there are none yet and it runs, waits
    /// up to <paramref name="wait"/> for the next.</summary>
    public async Task<MigrationView> ViewAsync(int after, TimeSpan wait, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_gate)
        {
            if (Outcome is not null || _dropped + _lines.Count > after || wait <= TimeSpan.Zero)
            {
                return View(after);
            }

            changed = _changed.Task;
        }

        try
        {
            await changed.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nothing new: the caller asks again.
        }

        lock (_gate)
        {
            return View(after);
        }
    }

    /// <summary>The migration without its lines (the number of the next is in the view).</summary>
    public MigrationView Summary()
    {
        lock (_gate)
        {
            return View(_dropped + _lines.Count);
        }
    }

    private MigrationView View(int after)
    {
        int first = Math.Max(after, _dropped);
        return new MigrationView(Id, Request, RequestedAt, Outcome?.Status ?? (StartedAt is null ? "Queued" : "Running"),
            [.. _lines.Skip(first - _dropped)], first, _dropped + _lines.Count, Outcome, StartedAt, EndedAt);
    }

    private void Changed()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
