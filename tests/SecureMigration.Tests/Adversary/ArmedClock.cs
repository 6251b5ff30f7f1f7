using Microsoft.Extensions.Time.Testing;

namespace SecureMigration.Tests.Adversary;

/// <summary>
/// A fake clock that knows which waits are armed: a test waits until the code under test has armed the timeout it
/// means (every timeout of a case has its own length), then moves the clock to just under or just over it.
/// </summary>
internal sealed class ArmedClock : TimeProvider
{
    private readonly FakeTimeProvider _fake = new(DateTimeOffset.UtcNow);
    private readonly Lock _lock = new();
    private readonly Dictionary<WatchedTimer, (TimeSpan Due, DateTimeOffset Deadline)> _armed = [];
    private readonly List<(TimeSpan Due, TaskCompletionSource Armed)> _waiters = [];

    public override TimeZoneInfo LocalTimeZone => _fake.LocalTimeZone;

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(this);
        timer.Inner = _fake.CreateTimer(callback, state, dueTime, period);
        Changed(timer, dueTime);
        return timer;
    }

    /// <summary>Completes once a timer is armed to fire <paramref name="due"/> after it was set, and has not fired yet.</summary>
    public Task WhenArmedAsync(TimeSpan due)
    {
        lock (_lock)
        {
            DateTimeOffset now = GetUtcNow();
            if (_armed.Values.Any(armed => armed.Due == due && armed.Deadline > now))
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((due, waiter));
            return waiter.Task;
        }
    }

    public void Advance(TimeSpan by) => _fake.Advance(by);

    private void Changed(WatchedTimer timer, TimeSpan due)
    {
        lock (_lock)
        {
            if (due == Timeout.InfiniteTimeSpan)
            {
                _armed.Remove(timer);
                return;
            }

            _armed[timer] = (due, GetUtcNow() + due);
            foreach ((TimeSpan Due, TaskCompletionSource Armed) waiter in _waiters.Where(w => w.Due == due).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Armed.SetResult();
            }
        }
    }

    private sealed class WatchedTimer(ArmedClock clock) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            clock.Changed(this, dueTime);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            clock.Changed(this, Timeout.InfiniteTimeSpan);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
