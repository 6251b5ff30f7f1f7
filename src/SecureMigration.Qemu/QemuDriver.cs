using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Threading;

namespace SecureMigration.Qemu;

/// <summary>
/// Drives QEMU's live migration for the coordinator through each VM's QMP monitor. The source's QEMU migrates
/// (<c>migrate</c>) to a private unix socket of this process, whose stream the coordinator carries through the secure
/// channel; the destination's QEMU, started by the operator with <c>-incoming defer -S</c>, is given a private incoming
/// socket (<c>migrate-incoming</c>) and is held stopped until <see cref="HypervisorDriver.ActivateDestinationAsync"/> issues <c>cont</c>
/// after the commit. Rollback is <c>migrate_cancel</c> and <c>cont</c> on the source and <c>quit</c> on the destination;
/// after a commit the source's QEMU is told to <c>quit</c>, so nothing can resume it. Every step checks QEMU's state
/// first, so each can be repeated by recovery.
/// </summary>
public sealed class QemuDriver : HypervisorDriver, IAsyncDisposable
{
    private const int MaxSocketPathBytes = 107;

    /// <summary>The send buffer asked for on the socket that feeds the destination QEMU.</summary>
    private const int IncomingSendBufferBytes = 4 * 1024 * 1024;

    private readonly QemuDriverOptions _options;
    private readonly Dictionary<string, QemuVmSession> _vms;

    /// <summary>Creates a driver for the VMs of <paramref name="options"/>.</summary>
    /// <param name="options">The VMs, the runtime directory and QEMU's migration parameters; validated here.</param>
    /// <param name="loggerFactory">Where QEMU steps are logged.</param>
    public QemuDriver(QemuDriverOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options = options.Snapshot();
        RuntimeDirectory = Path.GetFullPath(options.RuntimeDirectory);
        if (Encoding.UTF8.GetByteCount(RuntimeDirectory) + "/out-0123456789ab.sock".Length > MaxSocketPathBytes)
        {
            throw new ArgumentException($"QemuDriverOptions.RuntimeDirectory '{RuntimeDirectory}' is too long for unix socket paths " +
                $"(at most {MaxSocketPathBytes} bytes with the socket's name); choose a shorter directory.");
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(RuntimeDirectory);
        }
        else
        {
            Directory.CreateDirectory(RuntimeDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecureMigration.Qemu");
        _vms = options.Vms.ToDictionary(vm => vm.Id, vm => new QemuVmSession(vm, options.Qmp, options.SettleTimeout,
            new QemuMemoryFileManifest(Path.Combine(RuntimeDirectory, vm.Id + ".memory-files")),
            new MemoryDirectories(options.AllowedMemoryDirectories), Logger), StringComparer.Ordinal);
    }

    /// <summary>Gets the directory of the migration sockets.</summary>
    public string RuntimeDirectory { get; }

    internal ILogger Logger { get; }

    /// <summary>The name of the setting that bounds a wait for QEMU to settle, as a timeout's message gives it.</summary>
    private string SettleTimeoutName => _options.NameOf(nameof(QemuDriverOptions.SettleTimeout));

    /// <summary>
    /// Gets what QEMU said about the VM's last outgoing migration from this host once it settled (total time, downtime, passes).
    /// </summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>QEMU's figures, or <see langword="null"/> before the first outgoing migration.</returns>
    public QemuMigrationInfo? LastOutgoingMigration(string vmId) => Session(vmId).LastOutgoing;

    /// <summary>
    /// Keeps each served VM's monitor connected until <paramref name="cancellationToken"/> is cancelled: connects to every VM
    /// whose QEMU listens (and learns its RAM files, as any first connection does), then looks again every
    /// <paramref name="interval"/> for the VMs without a connected QEMU (one started later, or again after a migration), so a
    /// migration finds its QEMU's monitor open instead of connecting when it starts. A QEMU that does not answer is left for
    /// the migration that needs it to report.
    /// </summary>
    /// <param name="interval">How long to wait between looks.</param>
    /// <param name="cancellationToken">Stops the looks; the connections stay open until the driver is disposed.</param>
    /// <returns>A task that completes when <paramref name="cancellationToken"/> is cancelled.</returns>
    public async Task KeepConnectedAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        try
        {
            while (true)
            {
                foreach (QemuVmSession vm in _vms.Values)
                {
                    try
                    {
                        await vm.TryConnectAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is HypervisorException or IOException or SocketException or UnauthorizedAccessException)
                    {
                        Log.NotConnectedAhead(Logger, vm.Id, e.GetType().Name);
                    }
                }

                await Task.Delay(interval, _options.Qmp.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopped
        }
    }

    /// <inheritdoc />
    protected override ValueTask PrepareOutgoingCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ReadyAheadAsync(vmId, vm => vm.PreparedOutgoing, qmp => CheckAndSetOutgoingAsync(vmId, qmp, cancellationToken),
            cancellationToken);

    /// <inheritdoc />
    protected override async ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        QmpClient qmp = await vm.ConnectAsync(cancellationToken).ConfigureAwait(false);
        // Prepared on this very monitor connection (the same QEMU) for this start: only 'migrate' is left to send.
        if (!vm.PreparedOutgoing.Take(qmp))
        {
            await CheckAndSetOutgoingAsync(vmId, qmp, cancellationToken).ConfigureAwait(false);
        }

        string path = SocketPath("out");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = "unix:" + path }, cancellationToken).ConfigureAwait(false);
            Socket connection = await WithTimeoutAsync(token => listener.AcceptAsync(token),
                    $"QEMU to connect for VM '{vmId}'s outgoing migration", cancellationToken)
                .ConfigureAwait(false);
            Log.OutgoingStarted(Logger, vmId, _options.MaxBandwidth);
            return new QemuOutgoingStream(connection, this, vm, qmp);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        vm.PreparedOutgoing.Forget();
        QmpClient qmp = await vm.ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (!(await qmp.QueryMigrationAsync(cancellationToken).ConfigureAwait(false)).IsSettled)
        {
            await qmp.ExecuteAsync("migrate_cancel", cancellationToken: cancellationToken).ConfigureAwait(false);
            Log.Cancelled(Logger, vmId);
            await WaitUntilSettledAsync(qmp, cancellationToken).ConfigureAwait(false);
        }

        await ContinueAsync(vmId, qmp, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        QuitAsync(Session(vmId), cancellationToken);

    /// <inheritdoc />
    protected override ValueTask CheckDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ReadyAheadAsync(vmId, vm => vm.CheckedIncoming, qmp => CheckIncomingAsync(vmId, qmp, cancellationToken), cancellationToken);

    /// <inheritdoc />
    protected override async ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        QmpClient qmp = await vm.ConnectAsync(cancellationToken).ConfigureAwait(false);
        // Checked on this very monitor connection (the same QEMU) for this migration: the checks are not asked again.
        if (!vm.CheckedIncoming.Take(qmp))
        {
            await CheckIncomingAsync(vmId, qmp, cancellationToken).ConfigureAwait(false);
        }

        // 'stop' while QEMU waits for a migration clears its autostart: even a QEMU started without -S stays paused
        // after loading, until the commit's 'cont'.
        await Task.WhenAll(qmp.ExecuteAsync("stop", cancellationToken: cancellationToken),
            qmp.EnableMigrationEventsAsync(cancellationToken)).ConfigureAwait(false);
        string path = SocketPath("in");
        try
        {
            await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = "unix:" + path }, cancellationToken)
                .ConfigureAwait(false);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            {
                // A unix socket's buffer is its sender's: ask for a large one so a destination QEMU busy loading does
                // not stall the channel behind it (the kernel caps it at net.core.wmem_max).
                SendBufferSize = IncomingSendBufferBytes,
            };
            try
            {
                await WithTimeoutAsync(token => socket.ConnectAsync(new UnixDomainSocketEndPoint(path), token),
                        $"QEMU's incoming socket of VM '{vmId}'", cancellationToken)
                    .ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            Log.IncomingPrepared(Logger, vmId);
            return new NetworkStream(socket, ownsSocket: true);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        QmpClient qmp = await vm.ConnectAsync(cancellationToken).ConfigureAwait(false);
        QemuMigrationInfo info = await WaitUntilSettledAsync(qmp, cancellationToken).ConfigureAwait(false);
        if (info.Status != "completed")
        {
            throw new QemuMigrationException(vmId, info.Status,
                $"QEMU could not load the incoming migration of VM '{vmId}': {info.Error ?? info.Status}.");
        }

        string status = await qmp.QueryStatusAsync(cancellationToken).ConfigureAwait(false);
        if (QemuRunStates.ToVmRunState(status) != VmRunState.Paused)
        {
            throw new QemuVmException(vmId, $"VM '{vmId}' is '{status}' in QEMU after loading, where it must be paused until the commit.");
        }

        Log.IncomingLoaded(Logger, vmId);
    }

    /// <inheritdoc />
    protected override async ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        QmpClient qmp = await vm.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await ContinueAsync(vmId, qmp, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        vm.CheckedIncoming.Forget();
        return QuitAsync(vm, cancellationToken);
    }

    /// <summary>Runs a step's <paramref name="work"/> ahead on the VM's monitor connection and marks that connection, so the
    /// step skips it there.</summary>
    private async ValueTask ReadyAheadAsync(string vmId, Func<QemuVmSession, MonitorMark> mark, Func<QmpClient, Task> work,
        CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        QmpClient qmp = await vm.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await mark(vm).ReadyAsync(qmp, () => work(qmp)).ConfigureAwait(false);
    }

    /// <summary>Throws unless the VM's QEMU waits for an incoming migration and none has started.</summary>
    private static async Task CheckIncomingAsync(string vmId, QmpClient qmp, CancellationToken cancellationToken)
    {
        (string status, QemuMigrationInfo incoming) = await BothAsync(qmp.QueryStatusAsync(cancellationToken),
            qmp.QueryMigrationAsync(cancellationToken)).ConfigureAwait(false);
        if (status != "inmigrate" || incoming.Status != "none")
        {
            throw new QemuVmException(vmId,
                $"VM '{vmId}' is '{status}' in QEMU (incoming migration '{incoming.Status}'), " +
                "but a destination must be a fresh QEMU started with '-incoming defer -S'; start one and retry.");
        }
    }

    /// <inheritdoc />
    protected override async ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        QemuVmSession vm = Session(vmId);
        for (int look = 0; ; look++)
        {
            QmpClient? qmp = await vm.TryConnectAsync(cancellationToken).ConfigureAwait(false);
            if (qmp is null)
            {
                await ThreadPoolHop.IfNeeded(); // Residue() stats every image, which may be on shared storage.
                IReadOnlyList<string> residue = vm.Residue();
                return new VmStatus(residue.Count > 0 ? VmRunState.Stopped : VmRunState.Absent, residue)
                {
                    Detail = $"no QEMU answers at its monitor {QmpClient.Describe(vm.Vm.Monitor)}; " +
                        "start it with that -qmp, or fix --qmp / --vm ID=QMP",
                };
            }

            try
            {
                string status = await qmp.QueryStatusAsync(cancellationToken).ConfigureAwait(false);
                return new VmStatus(QemuRunStates.ToVmRunState(status), vm.Residue());
            }
            catch (QmpConnectionException) when (look == 0)
            {
                // QEMU exited while we asked (a destination QEMU exits when its incoming stream breaks): look again.
            }
        }
    }

    /// <summary>Closes every monitor connection; QEMU and its VMs go on as they are.</summary>
    /// <returns>A task that completes when the connections are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (QemuVmSession vm in _vms.Values)
        {
            await vm.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits until QEMU's migration (outgoing or incoming) completed, failed or was cancelled.</summary>
    internal Task<QemuMigrationInfo> WaitUntilSettledAsync(QmpClient qmp, CancellationToken cancellationToken) =>
        qmp.WaitUntilMigrationSettledAsync(_options.SettleTimeout, _options.Qmp.TimeProvider, SettleTimeoutName, cancellationToken);

    /// <summary>Reports QEMU's statistics of an outgoing migration until <paramref name="stop"/>.</summary>
    internal Task ReportStatisticsAsync(QmpClient qmp, CancellationToken stop) => _options.Progress is { } progress
        ? qmp.ReportMigrationStatisticsAsync(progress, _options.StatisticsInterval, _options.Qmp.TimeProvider, stop)
        : Task.CompletedTask;

    private QemuVmSession Session(string vmId)
    {
        ArgumentException.ThrowIfNullOrEmpty(vmId);
        return _vms.TryGetValue(vmId, out QemuVmSession? vm)
            ? vm
            : throw new QemuVmException(vmId, $"VM '{vmId}' is not one this host's QEMU driver serves " +
                $"({(_vms.Count == 0 ? "it serves none" : string.Join(", ", _vms.Keys))}).");
    }

    private async ValueTask ContinueAsync(string vmId, QmpClient qmp, CancellationToken cancellationToken)
    {
        string status = await qmp.QueryStatusAsync(cancellationToken).ConfigureAwait(false);
        if (status == "running")
        {
            return;
        }

        if (QemuRunStates.ToVmRunState(status) != VmRunState.Paused)
        {
            throw new QemuVmException(vmId, $"VM '{vmId}' is '{status}' in QEMU and cannot be continued.");
        }

        await qmp.ExecuteAsync("cont", cancellationToken: cancellationToken).ConfigureAwait(false);
        Log.Continued(Logger, vmId);
    }

    private async ValueTask<IReadOnlyList<string>> QuitAsync(QemuVmSession vm, CancellationToken cancellationToken)
    {
        QmpClient? qmp = await vm.TryConnectAsync(cancellationToken).ConfigureAwait(false);
        if (qmp is not null)
        {
            try
            {
                await qmp.ExecuteAsync("quit", cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (QmpConnectionException)
            {
                // QEMU may exit before it answers.
            }

            // The monitor closes when QEMU exits; with a known pid, wait for the process itself to be gone.
            bool exited = vm.Process is { } process
                ? await process.WaitForExitAsync(_options.SettleTimeout, _options.Qmp.TimeProvider, cancellationToken).ConfigureAwait(false)
                : await qmp.WaitUntilClosedAsync(_options.SettleTimeout, _options.Qmp.TimeProvider, cancellationToken)
                    .ConfigureAwait(false);
            if (!exited)
            {
                throw new QmpTimeoutException($"QEMU of VM '{vm.Id}' to exit after 'quit'", _options.SettleTimeout, SettleTimeoutName);
            }

            Log.Quit(Logger, vm.Id);
        }

        await ThreadPoolHop.IfNeeded();
        return vm.Residue();
    }

    private string SocketPath(string kind) =>
        Path.Combine(RuntimeDirectory, $"{kind}-{RandomNumberGenerator.GetHexString(12, lowercase: true)}.sock");

    private async ValueTask<T> WithTimeoutAsync<T>(Func<CancellationToken, ValueTask<T>> operation, string what,
        CancellationToken cancellationToken)
    {
        using var expiry = new CancellationTokenSource(_options.ConnectTimeout, _options.Qmp.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancellationToken);
        try
        {
            return await operation(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (expiry.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new QmpTimeoutException(what, _options.ConnectTimeout, _options.NameOf(nameof(QemuDriverOptions.ConnectTimeout)));
        }
    }

    private async ValueTask WithTimeoutAsync(Func<CancellationToken, ValueTask> operation, string what,
        CancellationToken cancellationToken) =>
        await WithTimeoutAsync(async token =>
        {
            await operation(token).ConfigureAwait(false);
            return true;
        }, what, cancellationToken).ConfigureAwait(false);

    /// <summary>Checks that the VM runs with no migration of its own in QEMU, then applies the migration's settings.</summary>
    private async Task CheckAndSetOutgoingAsync(string vmId, QmpClient qmp, CancellationToken cancellationToken)
    {
        // Commands sent together are answered in order: the two checks cost one round trip to QEMU, the two settings
        // another (the settings only after the checks, since a migration already running would take the new bandwidth).
        (string status, QemuMigrationInfo previous) = await BothAsync(qmp.QueryStatusAsync(cancellationToken),
            qmp.QueryMigrationAsync(cancellationToken)).ConfigureAwait(false);
        if (status != "running")
        {
            throw new QemuVmException(vmId, $"VM '{vmId}' is '{status}' in QEMU; only a running VM migrates.");
        }

        if (!previous.IsSettled)
        {
            throw new QemuVmException(vmId,
                $"VM '{vmId}' already has a migration '{previous.Status}' in QEMU; let it end (or 'migrate_cancel' it) first.");
        }

        var parameters = new JsonObject { ["max-bandwidth"] = _options.MaxBandwidth };
        if (_options.DowntimeLimit is { } downtime)
        {
            parameters["downtime-limit"] = (long)downtime.TotalMilliseconds;
        }

        await Task.WhenAll(qmp.EnableMigrationEventsAsync(cancellationToken),
            qmp.ExecuteAsync("migrate-set-parameters", parameters, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Awaits two monitor commands sent together (QEMU answers them in order, in one round trip); a failure of
    /// either is thrown once both ended, so neither is left unobserved.</summary>
    private static async Task<(T1 First, T2 Second)> BothAsync<T1, T2>(Task<T1> first, Task<T2> second)
    {
        await Task.WhenAll(first, second).ConfigureAwait(false);
        return (await first.ConfigureAwait(false), await second.ConfigureAwait(false));
    }
}
