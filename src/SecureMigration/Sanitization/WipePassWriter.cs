using System.Buffers;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Writes the passes of one file wipe: a ring of aligned blocks, one per I/O slot, each filled with the pattern or
/// keystream and written on its <see cref="IoSlot"/> while the others are at the device. Each pass is flushed to disk
/// before it counts, and checkpointed as it goes when the wipe is resumable.
/// </summary>
internal sealed class WipePassWriter(SanitizerOptions options, bool isDevice, WipeCheckpointBinding checkpoint, WipePlan chunks,
    WipeHandles handles)
{
    /// <summary>The most one <c>BLKZEROOUT</c> covers: the kernel splits it into the device's own commands, and a wipe checks
    /// for cancellation and reports progress between two.</summary>
    private const long ZeroOutGroup = 64L * 1024 * 1024;

    /// <summary>Writes one pass (or, when <paramref name="offload"/>, has the device zero it), then flushes it to disk and
    /// checkpoints past it.</summary>
    public async Task WriteAsync(int passIndex, SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, bool offload,
        PassProgress progress, CancellationToken cancellationToken)
    {
        if (offload)
        {
            await ZeroOutAsync(passIndex, firstChunk, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await StreamAsync(passIndex, pass, keystream, firstChunk, progress, cancellationToken).ConfigureAwait(false);
        }

        long size = checkpoint.Size;
        long now = isDevice
            ? Posix.BlockDeviceSize((int)handles.Primary.DangerousGetHandle()) ?? size
            : RandomAccess.GetLength(handles.Primary);
        if (now != size)
        {
            throw new IOException($"'{checkpoint.Target}' changed size during the wipe (from {size} to {now} bytes); " +
                "something else writes to it or resized it. Stop it and run the wipe again.");
        }

        // The pass counts once it is on disk; the checkpoint then points at the next one.
        if (checkpoint.Key is not null)
        {
            await checkpoint.SaveAsync(handles, passIndex + 1, 0, keystream).ConfigureAwait(false);
        }
        else
        {
            handles.Flush();
        }
    }

    /// <summary>
    /// Has the device zero the chunks (<c>BLKZEROOUT</c>), contiguous ones together up to <see cref="ZeroOutGroup"/>: each call
    /// blocks a pool thread until the device answers, and the kernel drops the range's page cache first.
    /// </summary>
    private async Task ZeroOutAsync(int passIndex, int firstChunk, PassProgress progress, CancellationToken cancellationToken)
    {
        int descriptor = (int)handles.Primary.DangerousGetHandle();
        long done = chunks.BytesBefore(firstChunk);
        long sinceCheckpoint = 0;
        int index = firstChunk;
        while (index < chunks.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WipeChunk first = chunks[index];
            long length = first.Length;
            int next = index + 1;
            while (next < chunks.Count && length < ZeroOutGroup && chunks[next].Offset == first.Offset + length)
            {
                length += chunks[next].Length;
                next++;
            }

            long offset = first.Offset;
            // errno is the calling thread's: read it there.
            int errno = await Task.Run(() => Posix.ZeroOutBlocks(descriptor, offset, length)
                ? 0
                : System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), cancellationToken).ConfigureAwait(false);
            if (errno != 0)
            {
                throw new IOException($"'{checkpoint.Target}' refused BLKZEROOUT at offset {offset} for {length} bytes (errno {errno}); " +
                    "run the wipe with ZeroOffload.Never (--zero-offload never) to write the zeros instead.", errno);
            }

            done += length;
            sinceCheckpoint += length;
            index = next;
            progress.Report(done);
            if (checkpoint.Key is not null && sinceCheckpoint >= options.CheckpointInterval)
            {
                await checkpoint.SaveAsync(handles, passIndex, index, null).ConfigureAwait(false);
                sinceCheckpoint = 0;
            }
        }
    }

    /// <summary>
    /// Writes the chunks from one aligned block per slot, in a ring of <see cref="SanitizerOptions.WritesInFlight"/>: a slot's
    /// block is filled for its next chunk on the slot's own thread, just before the write (<see cref="BlockFill"/>), while the
    /// other slots' writes are at the device, so no producer thread or queue stands between the fill and the write and the
    /// slots generate a random pass on every core (filled on the issuing thread, one block after another, the keystream
    /// held a 1 GiB random pass to 0.44 s on a RAM-backed loop device where the writes alone took 0.21 s). A pass of one
    /// byte is the same everywhere: each block is filled once, here.
    /// </summary>
    private async Task StreamAsync(int passIndex, SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, PassProgress progress,
        CancellationToken cancellationToken)
    {
        int depth = options.WritesInFlight;
        using var pool = new AlignedMemoryPool(options.BlockSize);
        IMemoryOwner<byte>[] blocks = [.. Enumerable.Range(0, depth).Select(_ => pool.Rent())];
        bool sameEverywhere = pass.Pattern is { Count: 1 };
        var filled = new bool[depth];
        BlockFill[]? fills = sameEverywhere ? null : [.. Enumerable.Range(0, depth).Select(_ => BlockFill.ForSlot(pass, keystream))];
        var ring = new WriteRing(depth);
        long done = chunks.BytesBefore(firstChunk);
        int chunksDone = firstChunk;
        long sinceCheckpoint = 0;
        try
        {
            for (int index = firstChunk; index < chunks.Count; index++)
            {
                if (ring.IsFull)
                {
                    await ring.RetireOldest(out WipeChunk finished).ConfigureAwait(false);
                    done += finished.Length;
                    sinceCheckpoint += finished.Length;
                    chunksDone++;
                    progress.Report(done);
                    if (checkpoint.Key is not null && sinceCheckpoint >= options.CheckpointInterval)
                    {
                        // Claims only the chunks whose writes completed; the flush makes them durable first.
                        await checkpoint.SaveAsync(handles, passIndex, chunksDone, keystream).ConfigureAwait(false);
                        sinceCheckpoint = 0;
                    }
                }

                cancellationToken.ThrowIfCancellationRequested();
                WipeChunk chunk = chunks[index];
                int slot = ring.NextSlot;
                Memory<byte> block = blocks[slot].Memory;
                if (fills is not null)
                {
                    ring.Issue(handles.FillAndWriteAsync(slot, chunk, block[..chunk.Length], fills[slot], cancellationToken), chunk);
                    continue;
                }

                if (!filled[slot])
                {
                    PatternFill.Fill(pass, keystream, chunk.Offset, block.Span);
                    filled[slot] = true;
                }

                ring.Issue(handles.WriteAsync(slot, chunk, block[..chunk.Length], cancellationToken), chunk);
            }

            while (ring.InFlight > 0)
            {
                await ring.RetireOldest(out WipeChunk finished).ConfigureAwait(false);
                done += finished.Length;
            }

            progress.Report(done);
        }
        finally
        {
            // Writes still in flight read the blocks: let them land before the pool is freed.
            while (ring.InFlight > 0)
            {
                try
                {
                    await ring.RetireOldest(out _).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException)
                {
                    // The pass already failed; the first error is the one reported.
                }
            }

            foreach (IMemoryOwner<byte> block in blocks)
            {
                block.Dispose();
            }

            foreach (BlockFill fill in fills ?? [])
            {
                fill.Dispose();
            }
        }
    }
}
