using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using SecureMigration.Identity;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Overwrites files (whole, or a list of extents) and memory buffers, pass by pass, at the speed of the storage: a
/// producer fills aligned blocks with the pattern or keystream, a <see cref="Pipe"/> carries them, a writer keeps
/// several writes in flight with <see cref="RandomAccess"/>, bypassing the page cache where the file system allows.
/// Every pass is flushed to disk before it counts; the last one is verified as asked; the report says what was done
/// and what the storage may still hold.
/// </summary>
public sealed class BlockSanitizer
{
    /// <summary>How much of a random or multi-byte pass verification regenerates at a time.</summary>
    private const int ScratchLength = 64 * 1024;

    private readonly SanitizerOptions _options;

    /// <summary>Creates a sanitizer.</summary>
    /// <param name="options">How it moves data, or <see langword="null"/> for the defaults; validated here.</param>
    public BlockSanitizer(SanitizerOptions? options = null)
    {
        _options = options ?? new SanitizerOptions();
        _options.Validate();
    }

    /// <summary>Overwrites a file with <paramref name="method"/>; NIST Clear and DoD 5220.22-M verify even when the options say none.</summary>
    /// <param name="path">The file.</param>
    /// <param name="method">The method.</param>
    /// <param name="extents">The ranges to overwrite, or <see langword="null"/> for the whole file.</param>
    /// <param name="progress">Receives progress, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the wipe; the report is then marked incomplete.</param>
    /// <returns>The report.</returns>
    public Task<SanitizationReport> SanitizeFileAsync(string path, SanitizationMethod method, IReadOnlyList<Extent>? extents = null,
        IProgress<SanitizationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        return SanitizeFileAsync(path, null, SanitizationMethods.Passes(method), method.ToString(), VerificationFor(method), extents, progress, cancellationToken);
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
    public Task<SanitizationReport> SanitizeFileAsync(string path, IReadOnlyList<SanitizationPass> passes, string methodName, VerificationMode verification,
        IReadOnlyList<Extent>? extents = null, IProgress<SanitizationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        SanitizeFileAsync(path, null, passes, methodName, verification, extents, progress, cancellationToken);

    /// <summary>Gets or sets what runs once a file wipe is planned (its identity recorded) and before its target is opened: a test's seam for a swap in between.</summary>
    internal Action<string>? Planned { get; set; }

    /// <summary>Overwrites a file with <paramref name="method"/>, refusing it unless it is still the file <paramref name="recorded"/> names.</summary>
    internal Task<SanitizationReport> SanitizeFileAsync(string path, FileIdentity? recorded, SanitizationMethod method, CancellationToken cancellationToken) =>
        SanitizeFileAsync(path, recorded, SanitizationMethods.Passes(method), method.ToString(), VerificationFor(method), null, null, cancellationToken);

    private async Task<SanitizationReport> SanitizeFileAsync(string path, FileIdentity? recorded, IReadOnlyList<SanitizationPass> passes, string methodName,
        VerificationMode verification, IReadOnlyList<Extent>? extents, IProgress<SanitizationProgress>? progress, CancellationToken cancellationToken)
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
            throw new BlockDeviceRefusedException(full, "block devices are overwritten only when asked explicitly; pass --allow-block-device (SanitizerOptions.AllowBlockDevices) if you mean to wipe the whole device");
        }

        Planned?.Invoke(full);
        SafeFileHandle buffered = OpenExclusive(full, planned, isDevice);
        using WipeHandles handles = WipeHandles.Open(full, buffered, _options.WritesInFlight, _options.DirectIo);
        long size = isDevice ? Posix.BlockDeviceSize((int)buffered.DangerousGetHandle()) ?? 0 : RandomAccess.GetLength(buffered);
        IReadOnlyList<Extent> ranges = ExtentList.Validate(extents ?? (size == 0 ? [] : [new Extent(0, size)]), size);
        var chunks = new WipePlan(ranges, _options.BlockSize);
        long total = ranges.Sum(r => r.Length);
        // Looked at before the first pass: overwriting fills a sparse file's holes.
        List<string> caveats = StorageCaveats.For(full, handles.DirectIo, _options.DirectIo, size, isDevice);
        string plan = WipeCheckpoint.Fingerprint(passes, ranges, _options.BlockSize);
        // A checkpoint is bound to the file the wipe holds open, and trusted only under the host key: without one, every wipe starts from its first pass.
        FileIdentity? opened = Posix.IdentityOf((int)buffered.DangerousGetHandle());
        string identity = opened?.ToString() ?? string.Empty;
        HostKey? checkpointKey = _options.Resumable ? _options.CheckpointKey : null;
        WipeCheckpoint? resumed = checkpointKey is null ? null : WipeCheckpoint.Load(checkpointKey, full, size, identity, plan);
        AesCtrKeystream? keystream = null;
        if (resumed?.SealedKey is not null)
        {
            byte[]? savedKey = resumed.UnsealKey(checkpointKey!);
            keystream = savedKey is null ? null : new AesCtrKeystream(savedKey, resumed.Nonce);
            resumed = keystream is null ? null : resumed;
            CryptographicOperations.ZeroMemory(savedKey);
        }

        DateTimeOffset started = resumed?.Started ?? _options.TimeProvider.GetUtcNow();
        var writer = new PassWriter(this, full, size, isDevice, new CheckpointBinding(checkpointKey, identity, plan, started), chunks, handles);
        bool completed = false;
        bool discarded = false;
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

                await writer.WriteAsync(i, passes[i], keystream, firstChunk, new PassProgress(progress, i + 1, passes.Count, "write", total), cancellationToken).ConfigureAwait(false);
            }

            completed = true;
            if (verification != VerificationMode.None)
            {
                bool everyChunk = verification == VerificationMode.Full;
                IReadOnlyList<WipeChunk> sample = everyChunk ? chunks : Sample(chunks);

                // A full plan's size is known; only a sample's few chunks are added up.
                long sampleBytes = everyChunk ? chunks.TotalBytes : sample.Sum(c => (long)c.Length);
                (mismatch, verified) = await VerifyAsync(passes[^1], keystream, sample, handles,
                    new PassProgress(progress, passes.Count, passes.Count, "verify", sampleBytes), cancellationToken).ConfigureAwait(false);
            }

            if (_options.Resumable)
            {
                WipeCheckpoint.Delete(full);
            }

            if (_options.Discard && mismatch is null)
            {
                discarded = Discard(handles.Primary, ranges, caveats, isDevice);
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
            Verification = verification,
            BytesVerified = verified,
            VerifiedCoverage = total == 0 ? 1 : (double)verified / total,
            MismatchOffset = mismatch,
            Completed = completed,
            Succeeded = completed && mismatch is null,
            Resumed = resumed is not null,
            DirectIo = handles.DirectIo,
            Caveats = caveats,
            Discarded = discarded,
            Started = started,
            Finished = _options.TimeProvider.GetUtcNow(),
        });
    }

    /// <summary>
    /// Checks that a file (or its extents) holds what a fill pass writes, reading past the page cache where allowed:
    /// a wipe can be re-verified later. A random pass cannot be: its key was wiped when the wipe ended.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="pass">A fill pass.</param>
    /// <param name="extents">The ranges to check, or <see langword="null"/> for the whole file.</param>
    /// <param name="cancellationToken">Stops the check.</param>
    /// <returns>The offset of the first byte that differs, or <see langword="null"/> when all match.</returns>
    public async Task<long?> VerifyFileAsync(string path, SanitizationPass pass, IReadOnlyList<Extent>? extents = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pass);
        if (pass.IsRandom)
        {
            throw new ArgumentException("A random pass cannot be verified after its wipe: the keystream's key was wiped with it.", nameof(pass));
        }

        string full = Path.GetFullPath(path);
        long size = new FileInfo(full).Length;
        IReadOnlyList<Extent> ranges = ExtentList.Validate(extents ?? (size == 0 ? [] : [new Extent(0, size)]), size);
        using WipeHandles handles = WipeHandles.Open(full, NoFollowFile.Open(full, FileMode.Open, FileAccess.Read), _options.WritesInFlight, _options.DirectIo);
        (long? mismatch, _) = await VerifyAsync(pass, null, new WipePlan(ranges, _options.BlockSize), handles, default, cancellationToken).ConfigureAwait(false);
        return mismatch;
    }

    /// <summary>How a method's last pass is checked: NIST Clear and DoD 5220.22-M sample at least, even when the options say none.</summary>
    private VerificationMode VerificationFor(SanitizationMethod method) =>
        SanitizationMethods.RequiresVerification(method) && _options.Verification == VerificationMode.None ? VerificationMode.Sample : _options.Verification;

    /// <summary>Overwrites a memory buffer with <paramref name="method"/> and, unless told otherwise, verifies every byte of the last pass.</summary>
    /// <param name="buffer">The buffer.</param>
    /// <param name="method">The method.</param>
    /// <param name="verification"><see cref="VerificationMode.Full"/> (the default) or <see cref="VerificationMode.None"/>.</param>
    /// <returns>The report.</returns>
    public SanitizationReport SanitizeMemory(Span<byte> buffer, SanitizationMethod method, VerificationMode verification = VerificationMode.Full)
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

            mismatch = verification == VerificationMode.None ? null : FirstMismatch(passes[^1], keystream, 0, buffer, new byte[ScratchLength]);
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

    /// <summary>Writes the passes of one file wipe, flushing and checkpointing as it goes.</summary>
    private sealed class PassWriter(BlockSanitizer owner, string target, long size, bool isDevice, CheckpointBinding checkpoint, WipePlan chunks, WipeHandles handles)
    {
        private readonly SanitizerOptions _options = owner._options;

        public async Task WriteAsync(int passIndex, SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, PassProgress progress, CancellationToken cancellationToken)
        {
            int blockSize = _options.BlockSize;
            int depth = _options.WritesInFlight;
            using var pool = new AlignedMemoryPool(blockSize);
            // The producer may fill a whole ring of blocks ahead of the writes in flight, so the disk never waits for
            // the keystream, and each block is released as soon as its own write completes.
            var pipe = new Pipe(new PipeOptions(pool, minimumSegmentSize: blockSize, pauseWriterThreshold: 2L * blockSize * depth,
                resumeWriterThreshold: (long)blockSize * depth, useSynchronizationContext: false));
            var order = new ConcurrentQueue<WipeChunk>();
            Task producer = Task.Run(() => owner.ProduceAsync(pass, keystream, chunks, firstChunk, pipe.Writer, order, cancellationToken), cancellationToken);
            var ring = new WriteRing(depth);
            long done = chunks.BytesBefore(firstChunk);
            int chunksDone = firstChunk;
            long sinceCheckpoint = 0;
            try
            {
                while (true)
                {
                    ReadResult read = await pipe.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    ReadOnlySequence<byte> buffer = read.Buffer;
                    long consumed = 0;
                    int alreadyIssued = ring.InFlight;
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        if (alreadyIssued > 0)
                        {
                            alreadyIssued--;
                            continue;
                        }

                        if (ring.IsFull)
                        {
                            await ring.RetireOldest(out WipeChunk finished).ConfigureAwait(false);
                            consumed += blockSize;
                            done += finished.Length;
                            sinceCheckpoint += finished.Length;
                            chunksDone++;
                        }

                        order.TryDequeue(out WipeChunk chunk);
                        ring.Issue(RandomAccess.WriteAsync(handles.For(ring.NextSlot, chunk), segment[..chunk.Length], chunk.Offset, cancellationToken), chunk);
                    }

                    if (read.IsCompleted)
                    {
                        while (ring.InFlight > 0)
                        {
                            await ring.RetireOldest(out WipeChunk finished).ConfigureAwait(false);
                            done += finished.Length;
                            chunksDone++;
                        }

                        pipe.Reader.AdvanceTo(buffer.End);
                        progress.Report(done);
                        break;
                    }

                    pipe.Reader.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
                    progress.Report(done);
                    if (checkpoint.Key is not null && sinceCheckpoint >= _options.CheckpointInterval)
                    {
                        // Claims only the chunks whose writes completed; the flush makes them durable first.
                        await CheckpointAsync(passIndex, chunksDone, keystream).ConfigureAwait(false);
                        sinceCheckpoint = 0;
                    }
                }
            }
            finally
            {
                // Writes still in flight read blocks of the pool: let them land before the pool is freed.
                while (ring.InFlight > 0)
                {
                    ValueTask oldest = ring.RetireOldest(out _);
                    try
                    {
                        await oldest.ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException)
                    {
                        // The pass already failed; the first error is the one reported.
                    }
                }

                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
                try
                {
                    await producer.ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Reported by the caller.
                }
            }

            long now = isDevice ? Posix.BlockDeviceSize((int)handles.Primary.DangerousGetHandle()) ?? size : RandomAccess.GetLength(handles.Primary);
            if (now != size)
            {
                throw new IOException($"'{target}' changed size during the wipe (from {size} to {now} bytes); something else writes to it or resized it. Stop it and run the wipe again.");
            }

            // The pass counts once it is on disk; the checkpoint then points at the next one.
            if (checkpoint.Key is not null)
            {
                await CheckpointAsync(passIndex + 1, 0, keystream).ConfigureAwait(false);
            }
            else
            {
                handles.Flush();
            }
        }

        private async ValueTask CheckpointAsync(int pass, int chunk, AesCtrKeystream? keystream)
        {
            handles.Flush();
            byte[]? key = keystream?.ExportKey();
            try
            {
                await WipeCheckpoint.Create(checkpoint.Key!, target, size, checkpoint.Identity, checkpoint.Plan, pass, chunk, key, keystream?.Nonce ?? 0, checkpoint.Started)
                    .SaveAsync().ConfigureAwait(false);
            }
            finally
            {
                if (key is not null)
                {
                    CryptographicOperations.ZeroMemory(key);
                }
            }
        }
    }

    /// <summary>
    /// Opens the target for the wipe, never through a symbolic link and only as the planned file, refusing it when
    /// another process has it open exclusively (<c>flock</c>, as .NET's <see cref="FileShare.None"/>) or holds a lock on it.
    /// </summary>
    private SafeFileHandle OpenExclusive(string path, FileIdentity? planned, bool isDevice)
    {
        SafeFileHandle handle = isDevice ? OpenDevice(path, planned) : NoFollowFile.Open(path, FileMode.Open, FileAccess.ReadWrite, planned);
        if (Posix.IsSupported && Posix.Flock((int)handle.DangerousGetHandle(), Posix.LockExclusive | Posix.LockNonBlocking) != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new FileInUseException(path, $"another process has it open exclusively (flock: errno {errno})");
        }

        if (!_options.Force && Posix.IsLockedByAnother((int)handle.DangerousGetHandle()))
        {
            handle.Dispose();
            throw new FileInUseException(path, "another process holds a lock on it (a hypervisor running a VM from it?)");
        }

        return handle;
    }

    /// <summary>
    /// Opens a block device for the wipe with <c>O_EXCL</c>, which the kernel refuses while a file system is mounted on
    /// it (or swap, device-mapper or RAID claims it) and which, once held, stops any of its partitions from being mounted
    /// meanwhile; then refuses it when it, a partition of it or a device stacked on it is mounted.
    /// </summary>
    private static SafeFileHandle OpenDevice(string device, FileIdentity? planned)
    {
        if (!Posix.IsSupported)
        {
            return NoFollowFile.Open(device, FileMode.Open, FileAccess.ReadWrite, planned);
        }

        SafeFileHandle? handle = NoFollowFile.TryOpen(device, Posix.ReadWrite | Posix.Exclusive, planned, out int errno);
        if (handle is null && errno == Posix.Busy)
        {
            // Held exclusively: say by what when it is a mount.
            using SafeFileHandle look = NoFollowFile.Open(device, FileMode.Open, FileAccess.Read, planned);
            throw new BlockDeviceRefusedException(device, BlockDeviceUsage.MountedUse((int)look.DangerousGetHandle()) is { } use
                ? $"{use}; unmount it first"
                : "another user holds it exclusively (swap, device-mapper, RAID or a program that opened it with O_EXCL?); stop that use first");
        }

        if (handle is null)
        {
            throw new IOException($"The block device '{device}' could not be opened (errno {errno}).", errno);
        }

        if (BlockDeviceUsage.MountedUse((int)handle.DangerousGetHandle()) is { } mounted)
        {
            handle.Dispose();
            throw new BlockDeviceRefusedException(device, $"{mounted}; unmount it first");
        }

        return handle;
    }

    /// <summary>
    /// Punches holes over the verified extents (<c>fallocate</c> with <c>FALLOC_FL_PUNCH_HOLE</c>), so the file system
    /// releases the blocks and, where the disk and mount allow, discards them. Says so in the caveats where it cannot.
    /// </summary>
    private static bool Discard(SafeFileHandle handle, IReadOnlyList<Extent> extents, List<string> caveats, bool isDevice)
    {
        if (isDevice)
        {
            foreach (Extent extent in extents)
            {
                if (!Posix.DiscardBlocks((int)handle.DangerousGetHandle(), extent.Offset, extent.Length))
                {
                    caveats.Add($"Discard was asked for, but the device refused BLKDISCARD (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); its blocks stay mapped.");
                    return false;
                }
            }

            return true;
        }

        if (!Posix.IsSupported)
        {
            caveats.Add("Discard was asked for, but this OS has no hole punching; the blocks stay allocated.");
            return false;
        }

        foreach (Extent extent in extents)
        {
            if (Posix.Fallocate((int)handle.DangerousGetHandle(), Posix.FallocPunchHole, extent.Offset, extent.Length) != 0)
            {
                caveats.Add($"Discard was asked for, but this file system refused to punch holes (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); the blocks stay allocated.");
                return false;
            }
        }

        return true;
    }

    private async Task ProduceAsync(SanitizationPass pass, AesCtrKeystream? keystream, WipePlan chunks, int firstChunk, PipeWriter writer, ConcurrentQueue<WipeChunk> order,
        CancellationToken cancellationToken)
    {
        try
        {
            for (int index = firstChunk; index < chunks.Count; index++)
            {
                WipeChunk chunk = chunks[index];
                // Each chunk takes a whole aligned block of the pool, so each pipe segment is one write.
                Memory<byte> block = writer.GetMemory(_options.BlockSize);
                PatternFill.Fill(pass, keystream, chunk.Offset, block.Span[..chunk.Length]);
                order.Enqueue(chunk);
                writer.Advance(_options.BlockSize);
                FlushResult flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    return;
                }
            }

            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<(long? Mismatch, long Verified)> VerifyAsync(SanitizationPass pass, AesCtrKeystream? keystream, IReadOnlyList<WipeChunk> chunks,
        WipeHandles handles, PassProgress progress, CancellationToken cancellationToken)
    {
        int inFlight = _options.WritesInFlight;
        using var pool = new AlignedMemoryPool(_options.BlockSize);
        var buffers = Enumerable.Range(0, inFlight).Select(_ => pool.Rent()).ToArray();
        var reads = new ValueTask<int>[inFlight];
        var pending = new bool[inFlight];
        byte[] scratch = new byte[ScratchLength];

        // With O_DIRECT every read bypasses the page cache: an unaligned head or tail is read as the whole page around it.
        (long At, int Length) Window(WipeChunk chunk)
        {
            if (chunk.Direct || !handles.DirectIo)
            {
                return (chunk.Offset, chunk.Length);
            }

            long at = chunk.Offset / AlignedMemoryPool.Alignment * AlignedMemoryPool.Alignment;
            long end = (chunk.Offset + chunk.Length + AlignedMemoryPool.Alignment - 1) / AlignedMemoryPool.Alignment * AlignedMemoryPool.Alignment;
            return (at, (int)(end - at));
        }

        ValueTask<int> Issue(int index, int slot)
        {
            pending[slot] = true;
            (long at, int length) = Window(chunks[index]);
            return RandomAccess.ReadAsync(handles.ForReading(slot), buffers[slot].Memory[..length], at, cancellationToken);
        }

        long verified = 0;
        try
        {
            // A ring of reads: while one block is compared, the next ones are already on their way.
            for (int i = 0; i < Math.Min(inFlight, chunks.Count); i++)
            {
                reads[i] = Issue(i, i);
            }

            for (int done = 0; done < chunks.Count; done++)
            {
                int slot = done % inFlight;
                WipeChunk chunk = chunks[done];
                pending[slot] = false;
                int skip = (int)(chunk.Offset - Window(chunk).At);
                // A page read past the end of the file comes back short: only the chunk's own bytes must be there.
                int read = Math.Clamp(await reads[slot].ConfigureAwait(false) - skip, 0, chunk.Length);
                if (read != chunk.Length)
                {
                    return (chunk.Offset + read, verified);
                }

                if (FirstMismatch(pass, keystream, chunk.Offset, buffers[slot].Memory.Span.Slice(skip, chunk.Length), scratch) is { } bad)
                {
                    return (bad, verified);
                }

                verified += chunk.Length;
                if (done + inFlight < chunks.Count)
                {
                    reads[slot] = Issue(done + inFlight, slot);
                }

                progress.Report(verified);
            }

            return (null, verified);
        }
        finally
        {
            // Reads still in flight write into these buffers: let them land before the memory goes back.
            for (int slot = 0; slot < inFlight; slot++)
            {
                if (pending[slot])
                {
                    try
                    {
                        await reads[slot].ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException)
                    {
                        // The wipe's outcome is already decided.
                    }
                }
            }

            foreach (System.Buffers.IMemoryOwner<byte> buffer in buffers)
            {
                buffer.Dispose();
            }
        }
    }

    /// <summary>The offset of the first byte of <paramref name="actual"/> that is not what <paramref name="pass"/> writes there, if any.</summary>
    private static long? FirstMismatch(SanitizationPass pass, AesCtrKeystream? keystream, long offset, ReadOnlySpan<byte> actual, Span<byte> scratch)
    {
        if (pass.Pattern is { Count: 1 } single)
        {
            int at = actual.IndexOfAnyExcept(single[0]);
            return at < 0 ? null : offset + at;
        }

        // What the pass wrote is generated again piece by piece into the caller's scratch buffer.
        for (int done = 0; done < actual.Length; done += scratch.Length)
        {
            int length = Math.Min(scratch.Length, actual.Length - done);
            Span<byte> expected = scratch[..length];
            PatternFill.Fill(pass, keystream, offset + done, expected);
            int common = actual.Slice(done, length).CommonPrefixLength(expected);
            if (common < length)
            {
                return offset + done + common;
            }
        }

        return null;
    }

    /// <summary>NIST-style sampling: the first and last chunks and <see cref="SanitizerOptions.SampledBlocks"/> others chosen at random.</summary>
    private IReadOnlyList<WipeChunk> Sample(WipePlan chunks)
    {
        if (chunks.Count <= _options.SampledBlocks + 2)
        {
            return chunks;
        }

        var chosen = new SortedSet<int> { 0, chunks.Count - 1 };
        while (chosen.Count < _options.SampledBlocks + 2)
        {
            chosen.Add(RandomNumberGenerator.GetInt32(chunks.Count));
        }

        return [.. chosen.Select(i => chunks[i])];
    }

    /// <summary>What a wipe's checkpoints are bound to and authenticated with; no checkpoints without a key.</summary>
    private sealed record CheckpointBinding(HostKey? Key, string Identity, string Plan, DateTimeOffset Started);

    /// <summary>Reports one stage's progress.</summary>
    private readonly record struct PassProgress(IProgress<SanitizationProgress>? Target, int Pass, int Passes, string Stage, long Total)
    {
        public void Report(long bytes) => Target?.Report(new SanitizationProgress(Pass, Passes, Stage, bytes, Total));
    }
}
