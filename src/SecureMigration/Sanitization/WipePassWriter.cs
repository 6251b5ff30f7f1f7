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
    /// Writes the chunks from one aligned block per slot, <see cref="SanitizerOptions.WritesInFlight"/> slots each taking the
    /// next chunk as soon as its own write completes (<see cref="ChunkDispenser"/>): a slot's block is filled for its chunk on
    /// the slot's own thread, just before the write (<see cref="BlockFill"/>), while the other slots' writes are at the
    /// device, so no producer thread or queue stands between the fill and the write and the slots generate a random pass on
    /// every core (filled on the issuing thread, one block after another, the keystream held a 1 GiB random pass to 0.44 s on
    /// a RAM-backed loop device where the writes alone took 0.21 s). A pass of one byte is the same everywhere: each block is
    /// filled once, here.
    /// </summary>
    private async Task StreamAsync(int passIndex, SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, PassProgress progress,
        CancellationToken cancellationToken)
    {
        int depth = options.WritesInFlight;
        using var pool = new AlignedMemoryPool(options.BlockSize);
        IMemoryOwner<byte>[] blocks = [.. Enumerable.Range(0, depth).Select(_ => pool.Rent())];
        BlockFill?[]? fills = pass.Pattern is { Count: 1 } ? null : new BlockFill?[depth];
        var dispenser = new ChunkDispenser(depth, firstChunk, chunks.Count, chunks.BytesBefore(firstChunk),
            checkpoint.Key is null ? 0 : options.CheckpointInterval, progress);
        try
        {
            for (int slot = 0; slot < depth; slot++)
            {
                if (fills is null)
                {
                    PatternFill.Fill(pass, keystream, 0, blocks[slot].Memory.Span);
                }
                else
                {
                    fills[slot] = BlockFill.ForSlot(pass, keystream);
                }
            }

            // Every slot's writes have landed once these end, failed or not: only then may the pool free the blocks.
            var slots = new Task[depth];
            for (int slot = 0; slot < depth; slot++)
            {
                slots[slot] = SlotAsync(slot, blocks[slot].Memory, fills?[slot], passIndex, keystream, dispenser, cancellationToken);
            }

            await Task.WhenAll(slots).ConfigureAwait(false);
            dispenser.ThrowIfFailed();
            progress.Report(dispenser.Done);
        }
        finally
        {
            foreach (IMemoryOwner<byte> block in blocks)
            {
                block.Dispose();
            }

            foreach (BlockFill? fill in fills ?? [])
            {
                fill?.Dispose();
            }
        }
    }

    /// <summary>
    /// One slot's part of a pass: takes the next chunk, writes it from <paramref name="block"/> (filled first when
    /// <paramref name="fill"/> is given), and writes a checkpoint when one falls to it; a failure is handed to the
    /// <paramref name="dispenser"/>, which ends the pass for every slot. Once the first write has gone to the slot's thread,
    /// the loop runs there: each completion resumes it on that thread.
    /// </summary>
    private async Task SlotAsync(int slot, Memory<byte> block, BlockFill? fill, int passIndex, AesCtrKeystream? keystream,
        ChunkDispenser dispenser, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested && dispenser.TryTake(slot, out int index))
            {
                WipeChunk chunk = chunks[index];
                Memory<byte> data = block[..chunk.Length];
                await (fill is null
                    ? handles.WriteAsync(slot, chunk, data, cancellationToken)
                    : handles.FillAndWriteAsync(slot, chunk, data, fill, cancellationToken)).ConfigureAwait(false);
                int claim = dispenser.Complete(slot, chunk.Length);
                if (claim >= 0)
                {
                    // Claims only chunks whose writes completed; the flush makes them durable first.
                    try
                    {
                        await checkpoint.SaveAsync(handles, passIndex, claim, keystream).ConfigureAwait(false);
                    }
                    catch (Exception e)
                    {
                        dispenser.CheckpointFailed(e);
                        return;
                    }

                    dispenser.CheckpointWritten(claim);
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (Exception e)
        {
            dispenser.Fail(e);
        }
    }
}
