using System.Text.Json;
using System.Text.Json.Nodes;
using SecureMigration.Text;

namespace SecureMigration.Qemu.Qmp;

/// <summary>
/// The QMP commands and waits of a live migration, over one monitor connection: QEMU's run state, its migration's
/// state and statistics, migration events, and waiting for a migration to settle or for QEMU to exit. The QEMU driver
/// decides what to do with the answers; these only ask and wait.
/// </summary>
internal static class QmpMigrationCommands
{
    /// <summary>QEMU's run state (<c>query-status</c>): <c>running</c>, <c>paused</c>, <c>inmigrate</c>, <c>postmigrate</c>, ...</summary>
    public static async Task<string> QueryStatusAsync(this QmpClient qmp, CancellationToken cancellationToken)
    {
        JsonElement answer = await qmp.ExecuteAsync("query-status", cancellationToken: cancellationToken).ConfigureAwait(false);
        // The word goes into messages and decisions: kept only as a short token (QemuMigrationInfo's rule), like the answer quoted.
        return answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("status", out JsonElement status)
            && status.ValueKind == JsonValueKind.String
            ? QemuMigrationInfo.Token(status.GetString())
            : throw new QmpConnectionException(
                $"QEMU's answer to 'query-status' has no status: {UntrustedText.Bound(answer.ToString(), 200)}");
    }

    /// <summary>QEMU's migration state and statistics (<c>query-migrate</c>).</summary>
    public static async Task<QemuMigrationInfo> QueryMigrationAsync(this QmpClient qmp, CancellationToken cancellationToken) =>
        QemuMigrationInfo.Parse(await qmp.ExecuteAsync("query-migrate", cancellationToken: cancellationToken).ConfigureAwait(false));

    /// <summary>Asks QEMU for <c>MIGRATION</c> events (the <c>events</c> migration capability).</summary>
    public static Task EnableMigrationEventsAsync(this QmpClient qmp, CancellationToken cancellationToken) =>
        qmp.ExecuteAsync("migrate-set-capabilities", new JsonObject
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "events", ["state"] = true }),
        }, cancellationToken);

    /// <summary>Waits until QEMU's migration (outgoing or incoming) completed, failed or was cancelled.</summary>
    /// <param name="qmp">The VM's monitor.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="option">The setting that gave <paramref name="timeout"/>, named when it runs out.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    public static async Task<QemuMigrationInfo> WaitUntilMigrationSettledAsync(this QmpClient qmp, TimeSpan timeout, TimeProvider clock,
        string option, CancellationToken cancellationToken)
    {
        using QmpEventWatcher events = qmp.WatchEvents("MIGRATION");
        long start = clock.GetTimestamp();
        while (true)
        {
            QemuMigrationInfo info = await qmp.QueryMigrationAsync(cancellationToken).ConfigureAwait(false);
            if (info.IsSettled)
            {
                return info;
            }

            TimeSpan left = timeout - clock.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                throw new QmpTimeoutException("the migration to complete, fail or cancel", timeout, option);
            }

            try
            {
                // An event is the cue to look again; a quiet second is too, in case QEMU does not send events.
                TimeSpan wait = left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1);
                await events.ReadAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpTimeoutException)
            {
            }
        }
    }

    /// <summary>
    /// Reports QEMU's statistics of an outgoing migration every <paramref name="interval"/> until <paramref name="stop"/>.
    /// </summary>
    public static async Task ReportMigrationStatisticsAsync(this QmpClient qmp, IProgress<QemuMigrationInfo> progress, TimeSpan interval,
        TimeProvider clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                progress.Report(await qmp.QueryMigrationAsync(stop).ConfigureAwait(false));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or QmpException)
        {
            // The migration ended, or QEMU's monitor went away: the stream reports that.
        }
    }

    /// <summary>
    /// Waits until QEMU closes the monitor (it exited); <see langword="false"/> when it is still open after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<bool> WaitUntilClosedAsync(this QmpClient qmp, TimeSpan timeout, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        try
        {
            await qmp.Completion.WaitAsync(timeout, clock, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
