using System.Collections.Concurrent;
using System.Net;
using SecureMigration.Channel;
using SecureMigration.Cli.Commands;
using SecureMigration.Cli.Live;
using SecureMigration.Cli.Terminal;
using SecureMigration.Coordination.Phases;
using SecureMigration.Text;

namespace SecureMigration.Cli.Control;

/// <summary>
/// The migrations the agent runs as a source for its control API (<c>POST /v1/migrations</c>): one at a time per VM, each
/// as 'secmig migrate' would run it, under the same admission, journal and registry as everything else on the host, and
/// never for a VM still arriving here (an unfinished incoming migration in the journal). At most as many run at once as
/// admission lets leave this host (its outbound cap); the others wait, in the order they came, up to <see cref="MaxWaiting"/>, so a
/// burst of requests is served rather than refused for the cap. The last <see cref="MaxKept"/> ended ones are kept for their callers
/// to read; all are cancelled (rolled back, or dropped from the queue) when the agent stops.
/// </summary>
/// <param name="host">This host.</param>
/// <param name="servedVms">The VMs the agent serves (<c>--vm</c>).</param>
/// <param name="time">The clock.</param>
/// <param name="inDoubt">Told of a migration that ended in doubt, to recover it (its id and VM).</param>
internal sealed class OutgoingMigrations(LiveHost host, IReadOnlyCollection<string> servedVms, TimeProvider time,
    Action<Guid, string> inDoubt)
{
    /// <summary>The most ended migrations kept.</summary>
    public const int MaxKept = 256;

    /// <summary>The most migrations waiting for a slot; more are refused until some have started.</summary>
    public const int MaxWaiting = 1000;

    private readonly ConcurrentDictionary<Guid, OutgoingMigration> _all = new();
    private readonly int _slotCount = host.Admission.Options.MaxOutboundPerHost;
    private readonly SemaphoreSlim _slots = new(host.Admission.Options.MaxOutboundPerHost);
    private int _waiting;
    private readonly CancellationTokenSource _stopping = new();
    private readonly WarmChannels _warm = new(host.Factory);
    private readonly Lock _gate = new();

    /// <summary>Starts <paramref name="request"/>, or says why not: what is wrong with it (a bad request), or that the VM is
    /// already migrating (a conflict).</summary>
    public (OutgoingMigration? Started, string? Invalid, string? Conflict) Start(MigrationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Vm is null || !servedVms.Contains(request.Vm, StringComparer.Ordinal))
        {
            return (null, $"this agent does not serve VM '{UntrustedText.Bound(request.Vm ?? "", 100)}' (its --vm are " +
                $"{string.Join(", ", servedVms)})", null);
        }

        if (EndPoints.TryParse(request.To ?? string.Empty) is not { } destination)
        {
            return (null, EndPoints.NotAnEndPoint(UntrustedText.Bound(request.To ?? "", 100)), null);
        }

        if (request.PeerName is not { Length: > 0 and <= 253 } || request.Retries is < 0 or > 100)
        {
            return (null, "peerName must be 1 to 253 characters and retries 0 to 100", null);
        }

        OutgoingMigration migration;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            if (_all.Values.FirstOrDefault(m => m.Outcome is null && m.Request.Vm == request.Vm) is { } running)
            {
                return (null, null, $"VM '{request.Vm}' is already migrating (request {running.Id}); follow or cancel that one");
            }

            if (Volatile.Read(ref _waiting) >= MaxWaiting)
            {
                return (null, null, $"{MaxWaiting} migrations are waiting for one of this host's {_slotCount} slots; ask again once " +
                    "some have started");
            }

            if (host.Journal.LatestRecords.LastOrDefault(r => r.VmId == request.Vm && r.Role == MigrationRole.Destination &&
                !MigrationStateMachine.IsFinal(r.Phase)) is { } incoming)
            {
                return (null, null, $"VM '{request.Vm}' is still arriving on this host (incoming migration {incoming.MigrationId}, " +
                    $"{incoming.Phase}): it can leave only once it has arrived; ask again when GET /v1/vms shows it Completed");
            }

            foreach (OutgoingMigration old in _all.Values.Where(m => m.Outcome is not null).OrderBy(m => m.RequestedAt)
                .Take(Math.Max(0, _all.Count + 1 - MaxKept)))
            {
                _all.TryRemove(old.Id, out _);
            }

            migration = new OutgoingMigration(request, time, _stopping.Token);
            _all[migration.Id] = migration;
            Interlocked.Increment(ref _waiting); // counted before the lock is left, so MaxWaiting holds
            migration.Completion = Task.Run(() => RunAsync(migration, destination));
        }

        return (migration, null, null);
    }

    public OutgoingMigration? Find(Guid id) => _all.GetValueOrDefault(id);

    public IReadOnlyList<OutgoingMigration> List() => [.. _all.Values.OrderBy(m => m.RequestedAt)];

    /// <summary>Cancels every migration (they roll back) and waits until they have ended.</summary>
    public async Task StopAsync()
    {
        lock (_gate)
        {
            _stopping.Cancel();
        }

        await Task.WhenAll(_all.Values.Select(m => m.Completion)).ConfigureAwait(false);
        await _warm.DisposeAsync().ConfigureAwait(false);
    }

    private Task RunAsync(OutgoingMigration migration, EndPoint destination) =>
        migration.RunAsync(token => QueuedAsync(migration, destination, token), e => Failed(migration, e));

    /// <summary>Waits for a slot, then runs the migration as 'secmig migrate' would.</summary>
    private async Task<MigrateOutcome> QueuedAsync(OutgoingMigration migration, EndPoint destination, CancellationToken token)
    {
        MigrationRequest request = migration.Request;
        try
        {
            if (_slots.CurrentCount == 0)
            {
                migration.Say($"queued {request.Vm}: {Volatile.Read(ref _waiting) - 1} before it, {_slotCount} at once");
            }

            await _slots.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            migration.Say($"result {request.Vm} Cancelled while it waited; nothing was done");
            return new MigrateOutcome(request.Vm, Guid.Empty, "Cancelled", "cancelled while it waited; nothing was done", 0, 0,
                ExitCodes.Interrupted, null);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        migration.Started();
        try
        {
            var display = new LiveMigrationDisplay(new ConsoleStyle(new LineSink(migration.Say), isTerminal: false, useColor: false));
            MigrateOutcome outcome = await SourceRun.RunAsync(host, request.Vm, destination, request.PeerName, request.Retries,
                migration.Say, display, _warm, "the agent asks the registry again, and finishes the migration once it answers", token)
                .ConfigureAwait(false);
            if (outcome.ExitCode == ExitCodes.InDoubt)
            {
                inDoubt(outcome.MigrationId, outcome.VmId);
            }

            return outcome;
        }
        finally
        {
            migration.Stopped();
            _slots.Release();
        }
    }

    /// <summary>What would have ended 'secmig migrate' with one line and an exit code ends this migration the same way.</summary>
    private static MigrateOutcome Failed(OutgoingMigration migration, Exception e)
    {
        int exitCode = e switch
        {
            HandshakeFailedException => ExitCodes.Refused,
            OperationCanceledException => ExitCodes.Interrupted,
            ArgumentException or FormatException or InvalidDataException => ExitCodes.InvalidInput,
            _ => ExitCodes.Failure,
        };
        string message = UntrustedText.Bound(e is HandshakeFailedException refused ? $"refused ({refused.Reason}): {e.Message}"
            : e.Message, 1000);
        migration.Say("secmig: " + message);
        return new MigrateOutcome(migration.Request.Vm, Guid.Empty, "Failed", message, 0, 0, exitCode, null);
    }
}
