using Microsoft.Win32.SafeHandles;
using SecureMigration.Identity;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Overwrites files (whole, or a list of extents) and memory buffers, pass by pass, at the speed of the storage: a ring
/// of aligned blocks is filled with the pattern or keystream and kept in flight, one write per I/O thread, bypassing the
/// page cache where the file system allows.
/// Every pass is flushed to disk before it counts; the last one is verified as asked; the report says what was done
/// and what the storage may still hold.
/// </summary>
public sealed class BlockSanitizer
{
    private readonly SanitizerOptions _options;

    /// <summary>Creates a sanitizer.</summary>
    /// <param name="options">How it moves data, or <see langword="null"/> for the defaults; validated here.</param>
    public BlockSanitizer(SanitizerOptions? options = null)
    {
        _options = options?.Snapshot() ?? new SanitizerOptions();
        _options.Validate();
    }

    /// <summary>
    /// Overwrites a file with <paramref name="method"/>; NIST Clear and DoD 5220.22-M verify even when the options say none.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="method">The method.</param>
    /// <param name="extents">The ranges to overwrite, or <see langword="null"/> for the whole file.</param>
    /// <param name="progress">Receives progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the wipe; the report is then marked incomplete.</param>
    /// <returns>The report.</returns>
    public Task<SanitizationReport> SanitizeFileAsync(string path, SanitizationMethod method, IReadOnlyList<Extent>? extents = null,
        IProgress<SanitizationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        return SanitizeFileAsync(path, null, SanitizationMethods.Passes(method), method.ToString(), VerificationFor(method), extents,
            progress, cancellationToken);
    }

    /// <summary>Overwrites a file with a custom list of passes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="passes">The passes, in order.</param>
    /// <param name="methodName">The name the report gives the method.</param>
    /// <param name="verification">How the last pass is checked.</param>
    /// <param name="extents">The ranges to overwrite, or <see langword="null"/> for the whole file.</param>
    /// <param name="progress">Receives progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the wipe; the report is then marked incomplete.</param>
    /// <returns>The report.</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="ArgumentException">The extents are outside the file or overlap; nothing was written.</exception>
    /// <exception cref="SymbolicLinkRefusedException">The path is or passes through a symbolic link; nothing was written.</exception>
    /// <exception cref="FileReplacedException">The file was replaced between the plan and the open; nothing was written.</exception>
    public Task<SanitizationReport> SanitizeFileAsync(string path, IReadOnlyList<SanitizationPass> passes, string methodName,
        VerificationMode verification, IReadOnlyList<Extent>? extents = null, IProgress<SanitizationProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        SanitizeFileAsync(path, null, passes, methodName, verification, extents, progress, cancellationToken);

    /// <summary>
    /// Gets or sets what runs once a file wipe is planned (its identity recorded) and before its target is opened: a test's seam
    /// for a swap in between.
    /// </summary>
    internal Action<string>? Planned { get; set; }

    /// <summary>
    /// Gets or sets whether each read and write lands before the call that issued it returns (<see cref="IoSlot(bool)"/>): a test's
    /// device faster than the code that waits on it, so a buffer handed to the next operation too early is overwritten every time.
    /// </summary>
    internal bool InlineIo { get; set; }

    /// <summary>
    /// Overwrites a file with <paramref name="method"/>, refusing it unless it is still the file <paramref name="recorded"/> names.
    /// </summary>
    internal Task<SanitizationReport> SanitizeFileAsync(string path, FileIdentity? recorded, SanitizationMethod method,
        CancellationToken cancellationToken) =>
        SanitizeFileAsync(path, recorded, SanitizationMethods.Passes(method), method.ToString(), VerificationFor(method), null, null,
            cancellationToken);

    private async Task<SanitizationReport> SanitizeFileAsync(string path, FileIdentity? recorded, IReadOnlyList<SanitizationPass> passes,
        string methodName, VerificationMode verification, IReadOnlyList<Extent>? extents, IProgress<SanitizationProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(passes);
        if (passes.Count == 0)
        {
            throw new ArgumentException("A wipe needs at least one pass.", nameof(passes));
        }

        string full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"There is no file '{full}' to sanitize.", full);
        }

        // The identity the wipe is planned for: the open below refuses any other file swapped in under this name.
        FileIdentity? planned = recorded ?? Posix.IdentityOf(full);
        bool isDevice = Posix.Stat(full)?.IsBlockDevice == true;
        if (isDevice && !_options.AllowBlockDevices)
        {
            throw new BlockDeviceRefusedException(full, "block devices are overwritten only when asked explicitly; " +
                "pass --allow-block-device (SanitizerOptions.AllowBlockDevices) if you mean to wipe the whole device");
        }

        if (_options.SecureDiscard && !isDevice)
        {
            throw new ArgumentException($"SanitizerOptions.SecureDiscard (--secure-discard) applies to block devices; '{full}' is a " +
                "file. Use Discard to punch holes in a file.");
        }

        Planned?.Invoke(full);
        SafeFileHandle buffered = WipeTarget.OpenExclusive(full, planned, isDevice, _options.Force);
        using WipeHandles handles = WipeHandles.Open(full, buffered, _options.WritesInFlight, _options.DirectIo, InlineIo);
        long size = isDevice
            ? Posix.BlockDeviceSize((int)buffered.DangerousGetHandle()) ?? throw new IOException($"The size of the block device " +
                $"'{full}' could not be read (BLKGETSIZE64, errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); " +
                "nothing was written.")
            : RandomAccess.GetLength(buffered);
        IReadOnlyList<Extent> ranges = ExtentList.Validate(extents ?? WholeTarget(size), size);
        var chunks = new WipePlan(ranges, _options.BlockSize);
        long total = ranges.Sum(r => r.Length);
        BlockDeviceProperties? device = isDevice ? BlockDeviceProbe.Read((int)buffered.DangerousGetHandle()) : null;
        PurgeCapabilities? purge = device is null ? null : PurgeProbe.Probe((int)buffered.DangerousGetHandle(), device);
        bool[] offloaded = ZeroOffloads.Plan(full, _options.ZeroOffload, device, ranges, passes);
        // Looked at before the first pass: overwriting fills a sparse file's holes.
        List<string> caveats = StorageCaveats.For(full, handles.DirectIo, _options.DirectIo, size, isDevice);
        caveats.AddRange(ZeroOffloads.Caveats(device, offloaded));
        string plan = WipeCheckpoint.Fingerprint(passes, offloaded, ranges, _options.BlockSize);
        // A checkpoint is bound to the file the wipe holds open, and trusted only under the host key: without one, every wipe
        // starts from its first pass.
        FileIdentity? opened = Posix.IdentityOf((int)buffered.DangerousGetHandle());
        string identity = opened?.ToString() ?? string.Empty;
        HostKey? checkpointKey = _options.Resumable ? _options.CheckpointKey : null;
        // A device's state directory is only checked and made when there will be checkpoints to keep in it.
        string checkpointFile = WipeCheckpointLocation.For(full, isDevice ? Posix.DeviceNumberOf((int)buffered.DangerousGetHandle()) : null,
            _options.CheckpointDirectory, keep: checkpointKey is not null);
        WipeCheckpoint? resumed = WipeCheckpointBinding.Load(checkpointKey, checkpointFile, full, size, identity, plan,
            out AesCtrKeystream? keystream);
        DateTimeOffset started = resumed?.Started ?? _options.TimeProvider.GetUtcNow();
        var checkpoint = new WipeCheckpointBinding(checkpointKey, checkpointFile, full, size, identity, plan, started);
        var writer = new WipePassWriter(_options, isDevice, checkpoint, chunks, handles);
        bool completed = false;
        string? discarded = null;
        long? mismatch = null;
        long verified = 0;
        try
        {
            for (int i = Math.Min(resumed?.Pass ?? 0, passes.Count); i < passes.Count; i++)
            {
                int firstChunk = i == resumed?.Pass ? Math.Min(resumed.Chunk, chunks.Count) : 0;
                if (passes[i].IsRandom && firstChunk == 0)
                {
                    // A fresh key per random pass: two random passes never write the same bytes.
                    keystream?.Dispose();
                    keystream = new AesCtrKeystream();
                }

                var stage = new PassProgress(progress, i + 1, passes.Count, "write", total);
                await writer.WriteAsync(i, passes[i], keystream, firstChunk, offloaded[i], stage, cancellationToken).ConfigureAwait(false);
            }

            completed = true;
            if (verification != VerificationMode.None)
            {
                bool everyChunk = verification == VerificationMode.Full;
                IReadOnlyList<WipeChunk> sample = everyChunk ? chunks : WipeVerifier.Sample(chunks, _options.SampledBlocks);

                // A full plan's size is known; only a sample's few chunks are added up.
                long sampleBytes = everyChunk ? chunks.TotalBytes : sample.Sum(c => (long)c.Length);
                (mismatch, verified) = await WipeVerifier.VerifyAsync(_options, passes[^1], keystream, sample, handles,
                    new PassProgress(progress, passes.Count, passes.Count, "verify", sampleBytes), cancellationToken).ConfigureAwait(false);
            }

            // A file's stale checkpoint goes even when this run kept none; a device's state directory is left alone then.
            if (_options.Resumable && (checkpointKey is not null || !isDevice))
            {
                WipeCheckpoint.Delete(checkpointFile);
            }

            if ((_options.Discard || _options.SecureDiscard) && mismatch is null)
            {
                discarded = WipeDiscard.Discard(handles.Primary, ranges, caveats, isDevice, _options.SecureDiscard);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            completed = false;
        }
        finally
        {
            keystream?.Dispose();
        }

        return SanitizerTelemetry.Recorded(new SanitizationReport
        {
            Target = full,
            TargetSize = size,
            TargetIdentity = opened,
            Extents = ranges,
            Method = methodName,
            Passes = [.. passes.Select(p => p.Name)],
            PassPaths = [.. offloaded.Select(o => ZeroOffloads.PathOf(o, device, handles.DirectIo))],
            Verification = verification,
            BytesVerified = verified,
            VerifiedCoverage = total == 0 ? 1 : (double)verified / total,
            MismatchOffset = mismatch,
            Completed = completed,
            Succeeded = completed && mismatch is null,
            Resumed = resumed is not null,
            DirectIo = handles.DirectIo,
            Caveats = caveats,
            Discarded = discarded is not null,
            DiscardMethod = discarded,
            Device = device,
            Purge = purge,
            Started = started,
            Finished = _options.TimeProvider.GetUtcNow(),
        });
    }

    /// <summary>The whole target, or its start when <see cref="SanitizerOptions.ClearSize"/> asks for only that.</summary>
    private Extent[] WholeTarget(long size) => size == 0 ? [] : [new Extent(0, Math.Min(size, _options.ClearSize ?? size))];

    /// <summary>
    /// Checks that a file (or its extents) holds what a fill pass writes, reading past the page cache where allowed:
    /// a wipe can be re-verified later. A random pass cannot be: its key was wiped when the wipe ended.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="pass">A fill pass.</param>
    /// <param name="extents">The ranges to check, or <see langword="null"/> for the whole file.</param>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <returns>The offset of the first byte that differs, or <see langword="null"/> when all match.</returns>
    public async Task<long?> VerifyFileAsync(string path, SanitizationPass pass, IReadOnlyList<Extent>? extents = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pass);
        if (pass.IsRandom)
        {
            throw new ArgumentException("A random pass cannot be verified after its wipe: the keystream's key was wiped with it.",
                nameof(pass));
        }

        string full = Path.GetFullPath(path);
        SafeFileHandle read = NoFollowFile.Open(full, FileMode.Open, FileAccess.Read);
        // A block device's length is 0 to the file API: its size comes from the device (asked on the open handle), or nothing
        // would be checked.
        long size = Posix.BlockDeviceSize((int)read.DangerousGetHandle()) ?? RandomAccess.GetLength(read);
        IReadOnlyList<Extent> ranges;
        try
        {
            ranges = ExtentList.Validate(extents ?? WholeTarget(size), size);
        }
        catch
        {
            read.Dispose();
            throw;
        }

        using WipeHandles handles = WipeHandles.Open(full, read, _options.WritesInFlight, _options.DirectIo, InlineIo);
        var plan = new WipePlan(ranges, _options.BlockSize);
        (long? mismatch, _) = await WipeVerifier.VerifyAsync(_options, pass, null, plan, handles, default, cancellationToken)
            .ConfigureAwait(false);
        return mismatch;
    }

    /// <summary>
    /// How a method's last pass is checked: NIST Clear and DoD 5220.22-M sample at least, even when the options say none.
    /// </summary>
    private VerificationMode VerificationFor(SanitizationMethod method) =>
        SanitizationMethods.RequiresVerification(method) && _options.Verification == VerificationMode.None
            ? VerificationMode.Sample
            : _options.Verification;

    /// <summary>
    /// Overwrites a memory buffer with <paramref name="method"/> and, unless told otherwise, verifies every byte of the last pass.
    /// </summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="method">The method.</param>
    /// <param name="verification"><see cref="VerificationMode.Full"/> (the default) or <see cref="VerificationMode.None"/>.</param>
    /// <returns>The report.</returns>
    public SanitizationReport SanitizeMemory(Span<byte> buffer, SanitizationMethod method,
        VerificationMode verification = VerificationMode.Full)
    {
        DateTimeOffset started = _options.TimeProvider.GetUtcNow();
        IReadOnlyList<SanitizationPass> passes = SanitizationMethods.Passes(method);
        AesCtrKeystream? keystream = null;
        long? mismatch;
        try
        {
            foreach (SanitizationPass pass in passes)
            {
                if (pass.IsRandom)
                {
                    keystream?.Dispose();
                    keystream = new AesCtrKeystream();
                }

                PatternFill.Fill(pass, keystream, 0, buffer);
            }

            mismatch = verification == VerificationMode.None
                ? null
                : WipeVerifier.FirstMismatch(passes[^1], keystream, 0, buffer, new byte[WipeVerifier.ScratchLength]);
        }
        finally
        {
            keystream?.Dispose();
        }

        return SanitizerTelemetry.Recorded(new SanitizationReport
        {
            Target = "memory",
            TargetSize = buffer.Length,
            Extents = [new Extent(0, buffer.Length)],
            Method = method.ToString(),
            Passes = [.. passes.Select(p => p.Name)],
            Verification = verification == VerificationMode.None ? VerificationMode.None : VerificationMode.Full,
            BytesVerified = verification == VerificationMode.None ? 0 : buffer.Length,
            VerifiedCoverage = verification == VerificationMode.None ? 0 : 1,
            MismatchOffset = mismatch,
            Completed = true,
            Succeeded = mismatch is null,
            Caveats = ["Managed memory: copies the runtime made earlier (a moved object, a swapped page) are not reached."],
            Started = started,
            Finished = _options.TimeProvider.GetUtcNow(),
        });
    }
}
