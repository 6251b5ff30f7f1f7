using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Coordination.Drivers;
using SecureMigration.Storage;
using SecureMigration.Text;

namespace SecureMigration.Testing.Simulation;

/// <summary>
/// An in-process hypervisor for tests and the demo. A VM is a memory image file (<c>DIR/ID.img</c>) that a guest
/// writer keeps dirtying while it runs; its state lives in <c>DIR/ID.state</c>, so it outlives a crash of the process
/// the way a real hypervisor outlives its management agent. Migration is pre-copy with dirty-block tracking.
/// </summary>
public sealed class SimulatedHypervisor : HypervisorDriver, IAsyncDisposable
{
    private readonly SimulatedHypervisorOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, RunningVm> _vms = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Creates a hypervisor that keeps its VMs in <paramref name="directory"/>; VMs that were running there run again.</summary>
    /// <param name="directory">The host's VM directory.</param>
    /// <param name="options">How VMs behave, or <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock of the guests' writers, or <see langword="null"/> for the system clock.</param>
    public SimulatedHypervisor(string directory, SimulatedHypervisorOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _options = options ?? new SimulatedHypervisorOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        Directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(Directory);
        foreach (string stateFile in System.IO.Directory.EnumerateFiles(Directory, "*.state"))
        {
            string vmId = Path.GetFileNameWithoutExtension(stateFile);
            if (ReadRecord(vmId) is { State: VmRunState.Running } record)
            {
                StartGuest(vmId, record.Size);
            }
        }
    }

    /// <summary>Gets the host's VM directory.</summary>
    public string Directory { get; }

    /// <summary>Gets the path of a VM's memory image on this host.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The image path.</returns>
    public string ImagePath(string vmId) => Path.Combine(Directory, vmId + ".img");

    /// <summary>Creates a running VM with <paramref name="size"/> bytes of random memory.</summary>
    /// <param name="vmId">The VM.</param>
    /// <param name="size">The memory size, a multiple of the block size.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    /// <returns>A task that completes when the VM runs.</returns>
    public async ValueTask CreateVmAsync(string vmId, long size, CancellationToken cancellationToken = default)
    {
        VmIds.EnsureValid(vmId);
        if (size <= 0 || size % _options.BlockSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"A simulated VM's memory is a positive multiple of the block size " +
                $"({_options.BlockSize} bytes).");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ReadRecord(vmId) is { State: not VmRunState.Stopped })
            {
                throw new InvalidOperationException($"VM '{vmId}' already exists on this host.");
            }

            using (SafeFileHandle image = File.OpenHandle(ImagePath(vmId), FileMode.Create, FileAccess.Write))
            {
                byte[] chunk = new byte[1024 * 1024];
                for (long offset = 0; offset < size; offset += chunk.Length)
                {
                    int length = (int)Math.Min(chunk.Length, size - offset);
                    RandomNumberGenerator.Fill(chunk.AsSpan(0, length));
                    RandomAccess.Write(image, chunk.AsSpan(0, length), offset);
                }

                RandomAccess.FlushToDisk(image);
            }

            await WriteRecordAsync(vmId, new SimulatedVmRecord(VmRunState.Running, size, null)).ConfigureAwait(false);
            StartGuest(vmId, size);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Gets the SHA-256 (hex) of a VM's image when it was last frozen (a source at switchover, a destination once loaded), if
    /// ever.</summary>
    /// <param name="vmId">The VM.</param>
    /// <returns>The hash, or <see langword="null"/>.</returns>
    public string? FrozenImageSha256(string vmId) => ReadRecord(vmId)?.ImageSha256;

    /// <inheritdoc />
    protected override async ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_vms.TryGetValue(vmId, out RunningVm? vm) || vm.Guest is null)
            {
                throw new InvalidOperationException($"VM '{vmId}' is not running on this host, so it cannot migrate from here.");
            }

            if (vm.Outgoing is not null)
            {
                throw new InvalidOperationException($"VM '{vmId}' is already migrating.");
            }

            DirtyingWriter guest = vm.Guest;
            vm.Outgoing = new OutgoingMigration(vm.Image, vm.Size, _options, guest.TakeDirty, () => PauseAsync(vmId, vm));
            return vm.Outgoing.Stream;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Cancel first: a migration that is pausing the guest must finish doing so before the state is read.
            if (_vms.TryGetValue(vmId, out RunningVm? vm) && vm.Outgoing is { } outgoing)
            {
                await outgoing.CancelAsync().ConfigureAwait(false);
                vm.Outgoing = null;
            }

            SimulatedVmRecord record = ReadRecord(vmId) ?? throw new InvalidOperationException($"VM '{vmId}' does not exist on this " +
                $"host; there is nothing to resume.");
            if (record.State == VmRunState.Stopped)
            {
                throw new InvalidOperationException($"VM '{vmId}' was discarded on this host and can never run here again.");
            }

            if (record.State != VmRunState.Running)
            {
                await WriteRecordAsync(vmId, record with { State = VmRunState.Running }).ConfigureAwait(false);
            }

            if (vm?.Guest is null)
            {
                StopTracking(vmId);
                StartGuest(vmId, record.Size);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        await StopForGoodAsync(vmId, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override async ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        VmIds.EnsureValid(vmId);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (ReadRecord(vmId) is { State: not VmRunState.Stopped } existing)
            {
                throw new InvalidOperationException($"VM '{vmId}' already exists on this host ({existing.State}); an incoming migration " +
                    $"would overwrite it.");
            }

            StopTracking(vmId);
            await WriteRecordAsync(vmId, new SimulatedVmRecord(VmRunState.Incoming, 0, null)).ConfigureAwait(false);
            SafeFileHandle image = File.OpenHandle(ImagePath(vmId), FileMode.Create, FileAccess.ReadWrite);
            var vm = new RunningVm(image, 0) { Incoming = new IncomingMigration(image) };
            _vms[vmId] = vm;
            return vm.Incoming.Stream;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        IncomingMigration incoming;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_vms.TryGetValue(vmId, out RunningVm? vm) || vm.Incoming is null)
            {
                throw new InvalidOperationException($"No incoming migration of VM '{vmId}' is in progress on this host.");
            }

            incoming = vm.Incoming;
        }
        finally
        {
            _gate.Release();
        }

        long size = await incoming.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteRecordAsync(vmId, new SimulatedVmRecord(VmRunState.Paused, size, HashImage(vmId))).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            SimulatedVmRecord record = ReadRecord(vmId) ?? throw new InvalidOperationException($"VM '{vmId}' does not exist on this host.");
            switch (record.State)
            {
                case VmRunState.Running:
                    return;
                case VmRunState.Paused:
                    await WriteRecordAsync(vmId, record with { State = VmRunState.Running }).ConfigureAwait(false);
                    StopTracking(vmId);
                    StartGuest(vmId, record.Size);
                    return;
                default:
                    throw new InvalidOperationException($"VM '{vmId}' is {record.State} on this host; only a completely loaded VM can be " +
                        $"activated.");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId,
        CancellationToken cancellationToken) =>
        await StopForGoodAsync(vmId, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Inspect(Directory, vmId));

    /// <summary>Reads a VM's state from a hypervisor directory without starting anything (for status tools).</summary>
    /// <param name="directory">The host's VM directory.</param>
    /// <param name="vmId">The VM.</param>
    /// <returns>Its state and files.</returns>
    public static VmStatus Inspect(string directory, string vmId)
    {
        SimulatedVmRecord? record = ReadRecord(directory, vmId);
        string image = Path.Combine(directory, vmId + ".img");
        IReadOnlyList<string> images = File.Exists(image) ? [image] : [];
        return new VmStatus(record?.State ?? VmRunState.Absent, images);
    }

    /// <summary>Lists the VMs a hypervisor directory knows, whatever their state.</summary>
    /// <param name="directory">The host's VM directory.</param>
    /// <returns>Their ids.</returns>
    public static IReadOnlyList<string> ListVms(string directory) => System.IO.Directory.Exists(directory)
        ? [.. System.IO.Directory.EnumerateFiles(directory, "*.state").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Order(StringComparer.Ordinal)]
        : [];

    /// <summary>Stops every guest and closes every image; VM states stay on disk.</summary>
    /// <returns>A task that completes when everything stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (string vmId in _vms.Keys.ToArray())
            {
                await StopAsync(vmId).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask<long[]> PauseAsync(string vmId, RunningVm vm)
    {
        long[] lastDirty = [];
        if (vm.Guest is { } guest)
        {
            await guest.DisposeAsync().ConfigureAwait(false);
            lastDirty = guest.TakeDirty();
            vm.Guest = null;
        }

        RandomAccess.FlushToDisk(vm.Image);
        await WriteRecordAsync(vmId, new SimulatedVmRecord(VmRunState.Paused, vm.Size, HashImage(vmId))).ConfigureAwait(false);
        return lastDirty;
    }

    private async ValueTask<IReadOnlyList<string>> StopForGoodAsync(string vmId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopAsync(vmId).ConfigureAwait(false);
            SimulatedVmRecord? record = ReadRecord(vmId);
            if (record is not null && record.State != VmRunState.Stopped)
            {
                await WriteRecordAsync(vmId, record with { State = VmRunState.Stopped }).ConfigureAwait(false);
            }

            string image = ImagePath(vmId);
            return File.Exists(image) ? [image] : [];
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask StopAsync(string vmId)
    {
        if (!_vms.Remove(vmId, out RunningVm? vm))
        {
            return;
        }

        if (vm.Outgoing is { } outgoing)
        {
            await outgoing.CancelAsync().ConfigureAwait(false);
        }

        if (vm.Incoming is { } incoming)
        {
            await incoming.AbortAsync().ConfigureAwait(false);
        }

        if (vm.Guest is { } guest)
        {
            await guest.DisposeAsync().ConfigureAwait(false);
        }

        vm.Image.Dispose();
    }

    private void StartGuest(string vmId, long size)
    {
        SafeFileHandle image = File.OpenHandle(ImagePath(vmId), FileMode.Open, FileAccess.ReadWrite);
        var vm = new RunningVm(image, size);
        vm.Guest = new DirtyingWriter(image, size, _options, _time, seed: HashCode.Combine(vmId, size));
        _vms[vmId] = vm;
    }

    /// <summary>Closes a VM's handles without a state change, before another use of its files replaces it.</summary>
    private void StopTracking(string vmId)
    {
        if (_vms.Remove(vmId, out RunningVm? vm))
        {
            vm.Image.Dispose();
        }
    }

    private string StatePath(string vmId) => Path.Combine(Directory, vmId + ".state");

    private SimulatedVmRecord? ReadRecord(string vmId) => ReadRecord(Directory, vmId);

    private static SimulatedVmRecord? ReadRecord(string directory, string vmId)
    {
        VmIds.EnsureValid(vmId);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(Path.Combine(directory, vmId + ".state")),
                SimulatedJson.Default.SimulatedVmRecord);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private ValueTask WriteRecordAsync(string vmId, SimulatedVmRecord record) =>
        DurableFile.WriteAtomicallyAsync(StatePath(vmId), JsonSerializer.SerializeToUtf8Bytes(record,
            SimulatedJson.Default.SimulatedVmRecord));

    private string HashImage(string vmId)
    {
        using FileStream image = File.OpenRead(ImagePath(vmId));
        return Convert.ToHexStringLower(SHA256.HashData(image));
    }

    private sealed class RunningVm(SafeFileHandle image, long size)
    {
        public SafeFileHandle Image { get; } = image;

        public long Size { get; } = size;

        public DirtyingWriter? Guest { get; set; }

        public OutgoingMigration? Outgoing { get; set; }

        public IncomingMigration? Incoming { get; set; }
    }
}
