using SecureMigration.Cli.Live;

namespace SecureMigration.Cli.Control;

/// <summary>
/// A migration the agent runs for its control API: the lines 'secmig migrate' would print (the last
/// <see cref="MaxLines"/>), its outcome once it ends, and a way to cancel it (it then rolls back). Callers follow it by asking
/// for the lines after the last they saw, waiting for the next. <see cref="RunAsync"/> always ends it, whatever its run
/// throws, and then disposes its cancellation.
/// </summary>
internal sealed class OutgoingMigration
{
    /// <summary>The most lines kept; older ones are dropped (a follower that fell that far behind misses them).</summary>
    public const int MaxLines = 1000;

    /// <summary>The longest line kept.</summary>
    public const int MaxLineLength = 2000;

    private readonly Lock _gate = new();
    private readonly Lock _cancelling = new();
    private readonly CancellationTokenSource _cancellation;
    private readonly Queue<string> _lines = new();
    private int _dropped;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly TimeProvider _time;

    public OutgoingMigration(MigrationRequest request, TimeProvider time, CancellationToken stopping)
    {
        Request = request;
        _time = time;
        RequestedAt = time.GetUtcNow();
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Token = _cancellation.Token;
    }

    public Guid Id { get; } = Guid.NewGuid();

    public MigrationRequest Request { get; }

    public DateTimeOffset RequestedAt { get; }

    /// <summary>Gets the token that cancels the migration (<see cref="Cancel"/>, or the agent stopping).</summary>
    public CancellationToken Token { get; }

    /// <summary>Gets or sets the task that runs it.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Gets how it ended, or <see langword="null"/> while it waits or runs.</summary>
    public MigrateOutcome? Outcome { get; private set; }

    /// <summary>Gets when it left the queue and started, or <see langword="null"/> while it waits.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>Gets when it stopped running, or <see langword="null"/> until it has.</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>Records that it left the queue and runs.</summary>
    public void Started()
    {
        lock (_gate)
        {
            StartedAt = _time.GetUtcNow();
            Changed();
        }
    }

    /// <summary>Records that it stopped running (before its slot is given to the next, so no two runs' times overlap beyond the cap).
    /// </summary>
    public void Stopped()
    {
        lock (_gate)
        {
            EndedAt = _time.GetUtcNow();
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

    /// <summary>Asks the migration to stop (it rolls back unless it committed); nothing once it has ended.</summary>
    public void Cancel()
    {
        lock (_cancelling)
        {
            if (Outcome is null)
            {
                _ = _cancellation.CancelAsync(); // the callbacks run on the pool, never under this lock
            }
        }
    }

    /// <summary>
    /// Runs the migration and ends it, always: with the outcome of <paramref name="run"/>, with the one <paramref name="failed"/>
    /// makes of an exception, or, when <paramref name="failed"/> does not apply (out of memory, or it threw itself), as a failure
    /// that says so; then disposes its cancellation. An exception <paramref name="failed"/> did not take is thrown on.
    /// </summary>
    /// <param name="run">Runs the migration with <see cref="Token"/>.</param>
    /// <param name="failed">The outcome of a run that threw (not for <see cref="OutOfMemoryException"/>).</param>
    public async Task RunAsync(Func<CancellationToken, Task<MigrateOutcome>> run, Func<Exception, MigrateOutcome> failed)
    {
        MigrateOutcome? outcome = null;
        try
        {
            outcome = await run(Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            outcome = failed(e);
        }
        finally
        {
            if (outcome is null)
            {
                const string Unexpected = "the agent's run of this migration ended unexpectedly (out of memory?); its journal and " +
                    "'secmig recover' on this host tell where the VM is";
                Say("secmig: " + Unexpected);
                outcome = new MigrateOutcome(Request.Vm, Guid.Empty, "Failed", Unexpected, 0, 0, ExitCodes.Failure, null);
            }

            lock (_cancelling)
            {
                End(outcome);
                _cancellation.Dispose();
            }
        }
    }

    private void End(MigrateOutcome outcome)
    {
        lock (_gate)
        {
            Outcome = outcome;
            EndedAt ??= _time.GetUtcNow();
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

    /// <summary>The migration as the list shows it.</summary>
    public MigrationListItem ListItem()
    {
        lock (_gate)
        {
            return new MigrationListItem(Id, Request.Vm, Request.To, Status, RequestedAt, StartedAt, EndedAt, Outcome?.ExitCode,
                _dropped + _lines.Count);
        }
    }

    private string Status => Outcome?.Status ?? (StartedAt is null ? "Queued" : "Running");

    private MigrationView View(int after)
    {
        int first = Math.Max(after, _dropped);
        return new MigrationView(Id, Request, RequestedAt, Status, [.. _lines.Skip(first - _dropped)], first,
            _dropped + _lines.Count, Outcome, StartedAt, EndedAt);
    }

    private void Changed()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
