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
    public async Task WriteAsync(int passIndex, SanitizationPass pass, AesCtrKeystream? keystream, int firstChunk, PassProgress progress,
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
