using System.Threading.Channels;

namespace SecureMigration.Qemu.Qmp;

/// <summary>
/// The events a <see cref="QmpClient"/> received since <see cref="QmpClient.WatchEvents"/> created this watcher, in order.
/// It keeps a bounded backlog (the oldest are dropped first), so a caller that waits for a state should query the
/// state after it started watching and treat an event as a reason to query again.
/// </summary>
public sealed class QmpEventWatcher : IDisposable
{
    private readonly QmpClient _client;
    private readonly string[] _names;
    private readonly Channel<QmpEvent> _events;
    private readonly TimeProvider _timeProvider;

    internal QmpEventWatcher(QmpClient client, string[] names, int backlog, TimeProvider timeProvider)
    {
        _client = client;
        _names = names;
        _timeProvider = timeProvider;
        _events = System.Threading.Channels.Channel.CreateBounded<QmpEvent>(new BoundedChannelOptions(backlog)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
    }

    /// <summary>Waits for the next event.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The event.</returns>
    /// <exception cref="QmpTimeoutException">No event came in time.</exception>
    /// <exception cref="QmpConnectionException">The connection ended.</exception>
    public async ValueTask<QmpEvent> ReadAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var expiry = new CancellationTokenSource(timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancellationToken);
        try
        {
            return await _events.Reader.ReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QmpTimeoutException($"an event ({(_names.Length == 0 ? "any" : string.Join(" or ", _names))})", timeout,
                "the timeout given to QmpEventWatcher.ReadAsync");
        }
        catch (ChannelClosedException e)
        {
            throw e.InnerException as QmpConnectionException ?? new QmpConnectionException("The QMP connection ended while waiting for " +
                "an event.", e);
        }
    }

    /// <summary>Stops watching.</summary>
    public void Dispose()
    {
        _client.Unsubscribe(this);
        _events.Writer.TryComplete();
    }

    internal bool Wants(string name) => _names.Length == 0 || Array.IndexOf(_names, name) >= 0;

    internal void Post(QmpEvent qmpEvent) => _events.Writer.TryWrite(qmpEvent);

    internal void Fail(QmpConnectionException failure) => _events.Writer.TryComplete(failure);
}
