using Microsoft.Extensions.Hosting.Systemd;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// Tells systemd how the agent is (<c>Type=notify</c>): ready once it listens and serves its control socket, stopping when
/// it stops, and alive every half <c>WatchdogSec</c> while its loop runs (<c>WATCHDOG=1</c>), so systemd restarts an agent
/// whose loop died or hangs. Nothing is sent when systemd did not start the agent (no <c>NOTIFY_SOCKET</c>).
/// </summary>
internal sealed class SystemdNotifications
{
    private readonly SystemdNotifier _notifier = new();

    /// <summary>Gets whether systemd listens (it set <c>NOTIFY_SOCKET</c>).</summary>
    public bool IsEnabled => _notifier.IsEnabled;

    /// <summary>Gets the watchdog's interval, when systemd asks for keep-alives for this process (<c>WATCHDOG_USEC</c>,
    /// <c>WATCHDOG_PID</c>).</summary>
    public static TimeSpan? WatchdogInterval
    {
        get
        {
            if (!long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out long microseconds) || microseconds <= 0 ||
                (Environment.GetEnvironmentVariable("WATCHDOG_PID") is { } pid && pid != Environment.ProcessId.ToString(
                    System.Globalization.CultureInfo.InvariantCulture)))
            {
                return null;
            }

            return TimeSpan.FromMicroseconds(microseconds);
        }
    }

    public void Ready(string status) => Notify($"READY=1\nSTATUS={status}");

    public void Stopping() => Notify("STOPPING=1");

    /// <summary>Sends keep-alives every half watchdog interval until <paramref name="alive"/> ends or is cancelled.</summary>
    /// <param name="alive">The loop whose life the keep-alives vouch for.</param>
    /// <param name="time">The clock.</param>
    /// <param name="cancellationToken">Stops the keep-alives.</param>
    /// <returns>A task that completes when they stop.</returns>
    public async Task KeepAliveAsync(Task alive, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!IsEnabled || WatchdogInterval is not { } interval)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval / 2, time);
        try
        {
            while (!alive.IsCompleted && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!alive.IsCompleted)
                {
                    Notify("WATCHDOG=1");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The agent stops.
        }
    }

    private void Notify(string state)
    {
        if (IsEnabled)
        {
            _notifier.Notify(new ServiceState(state));
        }
    }
}
