using SecureMigration.Coordination;
using SecureMigration.Coordination.Journal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Text;

namespace SecureMigration.Cli.Agent;

/// <summary>
/// Finishes, on a running agent, the migrations that ended in doubt (the ownership registry out of reach at the commit): each is
/// recovered on its own once the registry may answer again, first after <see cref="FirstWait"/>, then after twice as long each time
/// up to <see cref="LongestWait"/>, until the registry decides it (rolled forward or back) or the agent stops; its next start
/// recovers what is left. Migrations in flight are never touched: a VM in doubt is paused, so no new migration of it starts here
/// until it is recovered. One line per attempt that did not finish, so the log grows by at most one line per wait.
/// </summary>
/// <param name="recover">Recovers one migration (<see cref="MigrationCoordinator.RecoverAsync(Guid, CancellationToken)"/>).</param>
/// <param name="time">The clock of the waits.</param>
/// <param name="say">Writes a line for the operator.</param>
internal sealed class InDoubtRecovery(Func<Guid, CancellationToken, Task<RecoveredMigration?>> recover, TimeProvider time,
    Action<string> say) : IAsyncDisposable
{
    public static readonly TimeSpan FirstWait = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan LongestWait = TimeSpan.FromMinutes(5);

    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<Guid, Task> _pending = [];

    /// <summary>Starts recovering <paramref name="migrationId"/>, unless it is being recovered already or the agent stops.</summary>
    public void Add(Guid migrationId, string vmId)
    {
        lock (_pending)
        {
            if (!_stopping.IsCancellationRequested && !_pending.ContainsKey(migrationId))
            {
                _pending[migrationId] = RetryAsync(migrationId, vmId);
            }
        }
    }

    private async Task RetryAsync(Guid migrationId, string vmId)
    {
        await Task.Yield();
        TimeSpan wait = FirstWait;
        try
        {
            while (true)
            {
                await Task.Delay(wait, time, _stopping.Token).ConfigureAwait(false);
                string problem;
                try
                {
                    RecoveredMigration? outcome = await recover(migrationId, _stopping.Token).ConfigureAwait(false);
                    if (outcome is null || MigrationStateMachine.IsFinal(outcome.To))
                    {
                        say(outcome is null ? $"recovered {vmId} {migrationId:D}: it had finished" : $"recovered {outcome.VmId} " +
                            $"{migrationId:D} {outcome.Role} {outcome.From} -> {outcome.To}: {outcome.Decision}");
                        return;
                    }

                    problem = outcome.Decision;
                }
                catch (JournalRolledBackException e)
                {
                    say($"not recovered {vmId} {migrationId:D}: {UntrustedText.Bound(e.Message)}");
                    return;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException or MigrationException)
                {
                    problem = UntrustedText.Bound(e.Message);
                }

                wait = wait * 2 < LongestWait ? wait * 2 : LongestWait;
                say($"in doubt {vmId} {migrationId:D}: {problem}; trying again in {wait.TotalSeconds:0} s");
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The agent stops; its next start recovers the migration.
        }
        finally
        {
            lock (_pending)
            {
                _pending.Remove(migrationId);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task[] pending;
        lock (_pending)
        {
            _stopping.Cancel();
            pending = [.. _pending.Values];
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
