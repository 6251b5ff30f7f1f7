using SecureMigration.Coordination.Drivers;

namespace SecureMigration.Samples.CustomDriver;

/// <summary>
/// A deliberately small hypervisor driver, to show what <see cref="HypervisorDriver"/> asks of yours: each VM is a
/// memory image <c>ID.img</c> and a run state in <c>ID.state</c> in one directory, and it migrates by stop-and-copy
/// (paused, then its image streamed). A real driver does the same things through its hypervisor's API, as
/// <c>SecureMigration.Qemu.QemuDriver</c> does through QMP.
/// </summary>
public sealed class StopAndCopyHypervisor(string directory) : HypervisorDriver
{
    /// <summary>Gets the directory that holds the VMs.</summary>
    public string Directory { get; } = System.IO.Directory.CreateDirectory(directory).FullName;

    /// <summary>Where a VM's memory image lives.</summary>
    public string ImagePath(string vmId) => Path.Combine(Directory, vmId + ".img");

    /// <summary>Creates a running VM with <paramref name="memory"/> as its image.</summary>
    public async Task CreateVmAsync(string vmId, byte[] memory, CancellationToken cancellationToken = default)
    {
        await File.WriteAllBytesAsync(ImagePath(vmId), memory, cancellationToken);
        await SetStateAsync(vmId, VmRunState.Running, cancellationToken);
    }

    /// <summary>Source: pauses the VM (stop-and-copy) and hands over its image; the coordinator reads it to the end.</summary>
    protected override async ValueTask<Stream> StartOutgoingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await ExpectAsync(vmId, VmRunState.Running, "migrate", cancellationToken);
        await SetStateAsync(vmId, VmRunState.Paused, cancellationToken);
        return new FileStream(ImagePath(vmId), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
    }

    /// <summary>Source, rollback: the migration did not commit, so the VM runs here again.</summary>
    protected override async ValueTask ResumeSourceCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        if (ReadState(vmId) == VmRunState.Stopped)
        {
            throw new InvalidOperationException($"VM '{vmId}' was discarded on this host; it can never run here again.");
        }

        await SetStateAsync(vmId, VmRunState.Running, cancellationToken);
    }

    /// <summary>Source, after the commit: this copy stops for good; its image is residue for the sanitizer.</summary>
    protected override ValueTask<IReadOnlyList<string>> DiscardSourceCoreAsync(string vmId, CancellationToken cancellationToken) =>
        StopForGoodAsync(vmId, cancellationToken);

    /// <summary>Destination: a VM that waits for the stream and cannot run; returns where the stream goes.</summary>
    protected override async ValueTask<Stream> PrepareDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        if (ReadState(vmId) is not (VmRunState.Absent or VmRunState.Stopped))
        {
            throw new InvalidOperationException($"VM '{vmId}' already exists on this host; an incoming migration would overwrite it.");
        }

        await SetStateAsync(vmId, VmRunState.Incoming, cancellationToken);
        return new FileStream(ImagePath(vmId), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
    }

    /// <summary>Destination: the stream was written and closed; "load" it (make it durable) and keep the VM paused.</summary>
    protected override async ValueTask FinishIncomingCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await ExpectAsync(vmId, VmRunState.Incoming, "finish loading", cancellationToken);
        using (var image = new FileStream(ImagePath(vmId), FileMode.Open, FileAccess.ReadWrite))
        {
            image.Flush(flushToDisk: true);
        }

        await SetStateAsync(vmId, VmRunState.Paused, cancellationToken);
    }

    /// <summary>Destination, after the commit: the ownership epoch is here now, so the VM may run.</summary>
    protected override async ValueTask ActivateDestinationCoreAsync(string vmId, CancellationToken cancellationToken)
    {
        await ExpectAsync(vmId, VmRunState.Paused, "activate", cancellationToken);
        await SetStateAsync(vmId, VmRunState.Running, cancellationToken);
    }

    /// <summary>Destination, rollback: the partial copy stops for good; its image is residue for the sanitizer.</summary>
    protected override ValueTask<IReadOnlyList<string>> DestroyDestinationCoreAsync(string vmId, CancellationToken cancellationToken) =>
        StopForGoodAsync(vmId, cancellationToken);

    /// <summary>What the VM is doing here; recovery after a crash starts from this.</summary>
    protected override ValueTask<VmStatus> QueryCoreAsync(string vmId, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new VmStatus(ReadState(vmId), File.Exists(ImagePath(vmId)) ? [ImagePath(vmId)] : []));

    /// <summary>Reads a VM's run state (<see cref="VmRunState.Absent"/> when this host never had it).</summary>
    public VmRunState ReadState(string vmId)
    {
        string path = StatePath(vmId);
        return File.Exists(path) ? Enum.Parse<VmRunState>(File.ReadAllText(path).Trim()) : VmRunState.Absent;
    }

    private async ValueTask<IReadOnlyList<string>> StopForGoodAsync(string vmId, CancellationToken cancellationToken)
    {
        await SetStateAsync(vmId, VmRunState.Stopped, cancellationToken);
        return File.Exists(ImagePath(vmId)) ? [ImagePath(vmId)] : [];
    }

    private async Task ExpectAsync(string vmId, VmRunState expected, string action, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        VmRunState state = ReadState(vmId);
        if (state != expected)
        {
            throw new InvalidOperationException($"Cannot {action} VM '{vmId}': it is {state} on this host, where {expected} is needed.");
        }
    }

    /// <summary>
    /// Writes the run state atomically: to a temporary file, flushed to disk, then renamed over the old one, so a crash
    /// leaves the old state or the new one, never half of one.
    /// </summary>
    private async Task SetStateAsync(string vmId, VmRunState state, CancellationToken cancellationToken)
    {
        string path = StatePath(vmId);
        string temporary = path + ".tmp";
        await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096,
            FileOptions.Asynchronous))
        {
            await file.WriteAsync(System.Text.Encoding.ASCII.GetBytes(state.ToString()), cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private string StatePath(string vmId) => Path.Combine(Directory, vmId + ".state");
}
