namespace SecureMigration.Coordination.Protocol;

/// <summary>
/// The wire's bound on every wait: one timer on the injected clock, armed (or re-armed) before a wait and disarmed
/// after it. When it fires, the token of the wait in progress is cancelled, and <see cref="Armed"/> names the bound
/// that ran out.
/// </summary>
internal sealed class StallWatchdog : IDisposable
{
    private readonly CancellationTokenSource _stall;

    public StallWatchdog(TimeProvider time) => _stall = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);

    /// <summary>Gets the token the watchdog cancels when the armed bound runs out.</summary>
    public CancellationToken Token => _stall.Token;

    /// <summary>Gets whether the armed bound ran out.</summary>
    public bool HasFired => _stall.IsCancellationRequested;

    /// <summary>Gets the bound armed last.</summary>
    public TimeSpan Armed { get; private set; }

    /// <summary>Arms the wait bound and returns it linked with the caller's token.</summary>
    public CancellationTokenSource Arm(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Arm(timeout);
        return CancellationTokenSource.CreateLinkedTokenSource(_stall.Token, cancellationToken);
    }

    /// <summary>Starts (or restarts) the wait bound; an error names the bound that ran out.</summary>
    public void Arm(TimeSpan timeout)
    {
        Armed = timeout;
        _stall.CancelAfter(timeout);
    }

    public void Disarm()
    {
        if (!_stall.IsCancellationRequested)
        {
            _stall.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _stall.Dispose();
}
