using SecureMigration.Admission;
using SecureMigration.Channel;
using SecureMigration.Channel.Tickets;
using SecureMigration.Coordination;
using SecureMigration.Text;

namespace SecureMigration.Hosting;

/// <summary>
/// A host's migration service over a <see cref="MigrationHost"/>: it recovers on start, serves incoming migrations with
/// bounded concurrency, runs source migrations with retries that wait out admission's backoff, saves the admission
/// state whenever a migration ends, and stops gracefully (migrations in flight roll back). What <c>secmig agent</c> and
/// <c>secmig migrate</c> run, for any embedder.
/// </summary>
public sealed class MigrationAgent
{
    private readonly MigrationHost _host;
    private readonly MigrationAgentOptions _options;

    /// <summary>Creates an agent; <paramref name="options"/> are validated and snapshotted.</summary>
    /// <param name="host">The host it serves.</param>
    /// <param name="options">Concurrency and retries, or <see langword="null"/> for the defaults.</param>
    public MigrationAgent(MigrationHost host, MigrationAgentOptions? options = null)
    {
        _host = host ?? throw new ArgumentNullException(nameof(host));
        options ??= new MigrationAgentOptions();
        options.Validate();
        _options = options.Snapshot();
    }

    /// <summary>Raised when an incoming migration ends (on the thread that ran it).</summary>
    public event EventHandler<IncomingMigrationEnded>? MigrationEnded;

    /// <summary>Raised before a source migration is tried again or waits out admission's backoff.</summary>
    public event EventHandler<MigrationRetry>? Retrying;

    /// <summary>Finishes what a crash of this host interrupted; call it once, before serving or migrating.</summary>
    /// <param name="cancellationToken">Cancels recovery; what was not finished stays for the next start.</param>
    /// <returns>The migrations recovered.</returns>
    public Task<IReadOnlyList<RecoveredMigration>> StartAsync(CancellationToken cancellationToken = default) =>
        _host.Coordinator.RecoverAsync(cancellationToken);

    /// <summary>
    /// Serves incoming migrations from <paramref name="listener"/> (already started) until <paramref name="cancellationToken"/>
    /// is cancelled or the listener closes: at most <see cref="MigrationAgentOptions.MaxConcurrentReceives"/> at once.
    /// On cancellation it stops accepting and waits for the migrations in flight, which roll back.
    /// </summary>
    /// <param name="listener">Where authenticated peers arrive.</param>
    /// <param name="progress">Makes a progress sink for each incoming migration, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the agent.</param>
    /// <returns>A task that completes when the agent has stopped and every migration it served has ended.</returns>
    public Task RunAsync(SecureChannelListener listener, Func<IProgress<MigrationProgress>?>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        return RunAsync(async token => await listener.AcceptAsync(token).ConfigureAwait(false), progress, cancellationToken);
    }

    /// <summary>
    /// Serves the incoming migrations <paramref name="accept"/> yields (a <see langword="null"/> ends the loop), as
    /// <see cref="RunAsync(SecureChannelListener, Func{IProgress{MigrationProgress}?}?, CancellationToken)"/> does for a
    /// listener: for another transport. <paramref name="accept"/> is not called while every slot is taken.
    /// </summary>
    /// <param name="accept">Yields the next authenticated connection, or <see langword="null"/> when there are no more.</param>
    /// <param name="progress">Makes a progress sink for each incoming migration, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the agent.</param>
    /// <returns>A task that completes when the agent has stopped and every migration it served has ended.</returns>
    public async Task RunAsync(Func<CancellationToken, ValueTask<MigrationConnection?>> accept,
        Func<IProgress<MigrationProgress>?>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accept);
        using var slots = new SemaphoreSlim(_options.MaxConcurrentReceives);
        var running = new List<Task>();
        try
        {
            while (true)
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                MigrationConnection? connection;
                try
                {
                    connection = await accept(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    slots.Release();
                    throw;
                }

                if (connection is null)
                {
                    slots.Release();
                    break;
                }

                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(() => ReceiveAsync(connection, progress?.Invoke(), slots, cancellationToken), CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: no new peer is accepted; the migrations in flight see the same token and roll back.
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>
    /// Migrates <paramref name="vmId"/> to <paramref name="destinationHost"/>. A denial for backoff or rate (after a first
    /// attempt) is waited out for its <see cref="MigrationResult.RetryAfter"/> on the host's clock; a rolled-back attempt
    /// is retried up to <see cref="MigrationAgentOptions.MaxRetries"/> times, never a permanent failure. The admission
    /// state is saved after every attempt.
    /// </summary>
    /// <param name="vmId">The VM, owned by this host.</param>
    /// <param name="destinationHost">The destination's identity.</param>
    /// <param name="connect">Opens the authenticated connection that carries a ticket to the destination.</param>
    /// <param name="progress">Receives phases and bytes, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the migration; it rolls back.</param>
    /// <returns>The last attempt's result and how many times it was retried.</returns>
    /// <exception cref="MigrationInDoubtException">The commit was requested and the registry cannot say how it ended.</exception>
    public async Task<SourceMigration> MigrateAsync(string vmId, string destinationHost,
        Func<MigrationTicket, CancellationToken, Task<MigrationConnection>> connect, IProgress<MigrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        MigrationTrigger trigger = MigrationTrigger.Manual;
        for (int attempt = 0; ;)
        {
            MigrationResult result;
            try
            {
                result = await _host.Coordinator.MigrateAsync(vmId, destinationHost, connect, trigger, progress,
                    cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await _host.SaveAdmissionAsync(CancellationToken.None).ConfigureAwait(false);
            }

            if (result.Denial is AdmissionDenialReason.Backoff or AdmissionDenialReason.RateLimited && attempt > 0)
            {
                Retrying?.Invoke(this, new MigrationRetry(vmId, 0, _options.MaxRetries, result.RetryAfter, result.Reason));
                await Task.Delay(result.RetryAfter, _host.TimeProvider, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (result.Status != MigrationStatus.RolledBack || result.IsPermanent || attempt == _options.MaxRetries)
            {
                return new SourceMigration(result, attempt);
            }

            attempt++;
            trigger = MigrationTrigger.Retry;
            Retrying?.Invoke(this, new MigrationRetry(vmId, attempt, _options.MaxRetries, TimeSpan.Zero, result.Reason));
        }
    }

    private async Task ReceiveAsync(MigrationConnection connection, IProgress<MigrationProgress>? progress, SemaphoreSlim slots,
        CancellationToken cancellationToken)
    {
        string vmId = UntrustedText.Bound(connection.Ticket.VmId, 160);
        IncomingMigrationEnded ended;
        try
        {
            MigrationResult result = await _host.Coordinator.ReceiveAsync(connection, progress, cancellationToken).ConfigureAwait(false);
            ended = new IncomingMigrationEnded(vmId, result, null);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or MigrationException or UnauthorizedAccessException)
        {
            // The journal keeps the migration's last checkpoint; the next start recovers it.
            ended = new IncomingMigrationEnded(vmId, null, e);
        }
        finally
        {
            slots.Release();
        }

        await _host.SaveAdmissionAsync(CancellationToken.None).ConfigureAwait(false);
        MigrationEnded?.Invoke(this, ended);
    }
}
