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
/// never for a VM still arriving here (an unfinished incoming migration in the journal). The
/// last <see cref="MaxKept"/> are kept for their callers to read; all are cancelled (rolled back) when the agent stops.
/// </summary>
/// <param name="host">This host.</param>
/// <param name="servedVms">The VMs the agent serves (<c>--vm</c>).</param>
/// <param name="time">The clock.</param>
internal sealed class OutgoingMigrations(LiveHost host, IReadOnlyCollection<string> servedVms, TimeProvider time)
{
    /// <summary>The most migrations kept, running or ended.</summary>
    public const int MaxKept = 256;

    private readonly ConcurrentDictionary<Guid, OutgoingMigration> _all = new();
    private readonly CancellationTokenSource _stopping = new();
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

            migration = new OutgoingMigration(request, time.GetUtcNow(), _stopping.Token);
            _all[migration.Id] = migration;
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
    }

    private Task RunAsync(OutgoingMigration migration, EndPoint destination)
    {
        MigrationRequest request = migration.Request;
        var display = new LiveMigrationDisplay(new ConsoleStyle(new LineSink(migration.Say), isTerminal: false, useColor: false));
        return migration.RunAsync(token => SourceRun.RunAsync(host, request.Vm, destination, request.PeerName, request.Retries,
            migration.Say, display, "the agent's next start (or 'secmig recover' on this host) asks the registry and finishes the " +
                "migration", token), e => Failed(migration, e));
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
