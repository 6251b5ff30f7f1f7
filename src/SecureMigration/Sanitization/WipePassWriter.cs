using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Writes the passes of one file wipe: a producer fills aligned blocks with the pattern or keystream, a
/// <see cref="Pipe"/> carries them, and a ring keeps several writes in flight with <see cref="RandomAccess"/>. Each pass
/// is flushed to disk before it counts, and checkpointed as it goes when the wipe is resumable.
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

    private async Task StreamAsync(int passIndex, SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, PassProgress progress,
        CancellationToken cancellationToken)
    {
        int blockSize = options.BlockSize;
        int depth = options.WritesInFlight;
        using var pool = new AlignedMemoryPool(blockSize);
        // The producer may fill a whole ring of blocks ahead of the writes in flight, so the disk never waits for
        // the keystream, and each block is released as soon as its own write completes.
        var pipe = new Pipe(new PipeOptions(pool, minimumSegmentSize: blockSize, pauseWriterThreshold: 2L * blockSize * depth,
            resumeWriterThreshold: (long)blockSize * depth, useSynchronizationContext: false));
        var order = new ConcurrentQueue<WipeChunk>();
        Task producer = Task.Run(() => ProduceAsync(pass, keystream, firstChunk, pipe.Writer, order, cancellationToken), cancellationToken);
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
                    ValueTask write = RandomAccess.WriteAsync(handles.For(ring.NextSlot, chunk), segment[..chunk.Length], chunk.Offset,
                        cancellationToken);
                    ring.Issue(write, chunk);
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
                if (checkpoint.Key is not null && sinceCheckpoint >= options.CheckpointInterval)
                {
                    // Claims only the chunks whose writes completed; the flush makes them durable first.
                    await checkpoint.SaveAsync(handles, passIndex, chunksDone, keystream).ConfigureAwait(false);
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
    }

    private async Task ProduceAsync(SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, PipeWriter writer,
        ConcurrentQueue<WipeChunk> order, CancellationToken cancellationToken)
    {
        try
        {
            for (int index = firstChunk; index < chunks.Count; index++)
            {
                WipeChunk chunk = chunks[index];
                // Each chunk takes a whole aligned block of the pool, so each pipe segment is one write.
                Memory<byte> block = writer.GetMemory(options.BlockSize);
                PatternFill.Fill(pass, keystream, chunk.Offset, block.Span[..chunk.Length]);
                order.Enqueue(chunk);
                writer.Advance(options.BlockSize);
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
}
