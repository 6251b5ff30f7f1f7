using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SecureMigration.Qemu.Qmp;
using SecureMigration.Storage;
using SecureMigration.Text;

namespace SecureMigration.Qemu;

/// <summary>
/// The driver's connection to one VM's QEMU monitor, opened on demand and again after QEMU restarted, and the VM's
/// residue files (remembered in <paramref name="manifest"/>, so they outlive both QEMU and this process).
/// </summary>
internal sealed class QemuVmSession(QemuVm vm, QmpClientOptions qmpOptions, TimeSpan settleTimeout, QemuMemoryFileManifest manifest,
    MemoryDirectories memoryDirectories,
    ILogger logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _filesGate = new();

    // What the manifest recorded is admitted again: the allowed directories may have shrunk since.
    private readonly List<MemoryFile> _memoryFiles =
        [.. manifest.Load().Select(file => memoryDirectories.Admit(file.Path) is { } real ? file with { Path = real } : null)
            .OfType<MemoryFile>()];
    private QmpClient? _client;
    private QemuProcess? _process;

    public QemuVm Vm { get; } = vm;

    public string Id => Vm.Id;

    /// <summary>Gets or sets what QEMU said about the last outgoing migration once it settled.</summary>
    public QemuMigrationInfo? LastOutgoing { get; set; }

    /// <summary>Gets where the outgoing migration was prepared (its checks and settings) for the next start: while the channel
    /// opens and the destination readies, which may take seconds.</summary>
    public MonitorMark PreparedOutgoing { get; } = new(qmpOptions.TimeProvider, TimeSpan.FromSeconds(10));

    /// <summary>Gets where the incoming migration was checked for the next preparation: while one journal write is made.</summary>
    public MonitorMark CheckedIncoming { get; } = new(qmpOptions.TimeProvider, TimeSpan.FromSeconds(2));

    /// <summary>Gets the QEMU process last connected to, when the monitor is a local unix socket.</summary>
    public QemuProcess? Process => _process;

    /// <summary>Connects to the VM's QEMU; throws when it has none on this host.</summary>
    public async Task<QmpClient> ConnectAsync(CancellationToken cancellationToken) =>
        await TryConnectAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new QemuVmException(Id, $"VM '{Id}' has no QEMU on this host: nothing listens at {QmpClient.Describe(Vm.Monitor)}. " +
                $"Start its QEMU with that '-qmp' monitor.");

    /// <summary>Connects to the VM's QEMU, or returns <see langword="null"/> when no QEMU listens at its monitor (it exited or never
    /// ran).</summary>
    public async Task<QmpClient?> TryConnectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_client is { IsConnected: true })
            {
                return _client;
            }

            if (_client is not null)
            {
                await ForgetExitingQemuAsync(cancellationToken).ConfigureAwait(false);
            }

            if (Vm.Monitor is UnixDomainSocketEndPoint unix && !File.Exists(unix.ToString()))
            {
                return null;
            }

            try
            {
                _client = await QmpClient.ConnectAsync(Vm.Monitor, qmpOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpConnectionException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or
                SocketError.AddressNotAvailable } ||
                _process is { IsAlive: false })
            {
                return null;
            }

            _process = QemuProcess.PeerOf(_client.Socket);

            Log.Connected(logger, Id, _client.QemuVersion, QmpClient.Describe(Vm.Monitor));
            try
            {
                await DiscoverMemoryFilesAsync(_client, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpConnectionException) when (!_client.IsConnected)
            {
                // The monitor closed while it was asked (an incoming migration that broke ends QEMU): it is gone.
                await ForgetExitingQemuAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch
            {
                // Cancelled (a refused ticket stops its question) or failed before the RAM files were known: a connection kept
                // without them would let a later destroy or wipe miss the VM's memory. The next use connects and asks again, so a
                // failure that repeats fails every use: closed, not a connection that forgot the RAM.
                await _client.DisposeAsync().ConfigureAwait(false);
                _client = null;
                throw;
            }

            return _client;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The files that hold this host's copy of the VM and still exist: the configured images and its file-backed RAM. A
    /// RAM file counts only while its path still names the file QEMU mapped (a file renamed into its place is not it).
    /// </summary>
    public IReadOnlyList<string> Residue()
    {
        MemoryFile[] memoryFiles;
        lock (_filesGate)
        {
            memoryFiles = [.. _memoryFiles];
        }

        var ram = new List<string>();
        foreach (MemoryFile file in memoryFiles)
        {
            if (FileIdentity.Of(file.Path) is { } now && now != file.Identity)
            {
                Log.MemoryFileReplaced(logger, Id, UntrustedText.Bound(file.Path), file.Identity.ToString(), now.ToString());
            }
            else
            {
                ram.Add(file.Path);
            }
        }

        return [.. Vm.Images.Select(Path.GetFullPath).Concat(ram).Distinct(StringComparer.Ordinal).Where(File.Exists)];
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }

    /// <summary>
    /// Drops the connection to a QEMU whose monitor closed. QEMU closes its monitors only when it exits: let the process
    /// finish dying before anything connects to its still-existing socket, which would otherwise accept and never greet.
    /// </summary>
    private async Task ForgetExitingQemuAsync(CancellationToken cancellationToken)
    {
        await _client!.DisposeAsync().ConfigureAwait(false);
        _client = null;
        if (_process is { } exiting)
        {
            await exiting.WaitForExitAsync(settleTimeout, qmpOptions.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Learns the files behind the VM's <c>memory-backend-file</c> objects: its RAM, which is residue once the copy here
    /// stops.</summary>
    private async Task DiscoverMemoryFilesAsync(QmpClient client, CancellationToken cancellationToken)
    {
        JsonElement objects = await client.ExecuteAsync("qom-list", new JsonObject { ["path"] = "/objects" },
            cancellationToken).ConfigureAwait(false);
        if (objects.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (JsonElement child in objects.EnumerateArray())
        {
            if (child.TryGetProperty("type", out JsonElement type) && type.GetString() == "child<memory-backend-file>" &&
                child.TryGetProperty("name", out JsonElement name) && name.GetString() is { } objectName)
            {
                JsonElement path = await client.ExecuteAsync("qom-get", new JsonObject { ["path"] = "/objects/" + objectName,
                    ["property"] = "mem-path" }, cancellationToken)
                    .ConfigureAwait(false);
                if (path.ValueKind == JsonValueKind.String && path.GetString() is { Length: > 0 } file && Path.IsPathRooted(file) &&
                    File.Exists(file))
                {
                    // QEMU's answer is the guest's if it escaped into QEMU: only a file inside the allowed directories becomes residue.
                    if (memoryDirectories.Admit(file) is not { } full)
                    {
                        Log.MemoryFileRefused(logger, Id, UntrustedText.Bound(file), memoryDirectories.Describe());
                        continue;
                    }

                    // A file QEMU names but does not map is not its RAM: an escaped guest may name another VM's RAM file.
                    if (FileIdentity.Of(full) is not { } identity || (_process is { } process && !process.Maps(identity)))
                    {
                        Log.MemoryFileNotMapped(logger, Id, UntrustedText.Bound(full));
                        continue;
                    }

                    MemoryFile[]? learned = null;
                    var found = new MemoryFile(full, identity);
                    lock (_filesGate)
                    {
                        if (!_memoryFiles.Contains(found))
                        {
                            // A QEMU started again may have made a new file at the same path: the one it maps now counts.
                            _memoryFiles.RemoveAll(file => file.Path == full);
                            _memoryFiles.Add(found);
                            learned = [.. _memoryFiles];
                        }
                    }

                    // Discovery runs under the connection gate, so saves never race each other.
                    if (learned is not null)
                    {
                        await manifest.SaveAsync(learned, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
    }
}
