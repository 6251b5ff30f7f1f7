using System.Security.Cryptography;

namespace SecureMigration.Sanitization;

/// <summary>
/// Checks that storage or memory holds what a pass wrote: reads a ring of blocks past the page cache where allowed and
/// compares each with the pass's pattern or keystream, generated again.
/// </summary>
internal static class WipeVerifier
{
    /// <summary>How much of a random or multi-byte pass verification regenerates at a time.</summary>
    public const int ScratchLength = 64 * 1024;

    /// <summary>Reads <paramref name="chunks"/> back and compares them with what <paramref name="pass"/> writes there.</summary>
    /// <returns>The offset of the first byte that differs (or is missing), if any, and how many bytes matched before it.</returns>
    public static async Task<(long? Mismatch, long Verified)> VerifyAsync(SanitizerOptions options, SanitizationPass pass,
        AesCtrKeystream? keystream, IReadOnlyList<WipeChunk> chunks, WipeHandles handles, PassProgress progress,
        CancellationToken cancellationToken)
    {
        int inFlight = options.WritesInFlight;
        using var pool = new AlignedMemoryPool(options.BlockSize);
        // One buffer more than reads in flight: a slot's next read goes out into the spare before its last block is compared,
        // so the device has every slot's read while the comparison (or the keystream it regenerates) runs.
        var buffers = Enumerable.Range(0, inFlight + 1).Select(_ => pool.Rent()).ToArray();
        int[] bufferOf = [.. Enumerable.Range(0, inFlight)];
        int spare = inFlight;
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
            long end = (chunk.Offset + chunk.Length + AlignedMemoryPool.Alignment - 1) / AlignedMemoryPool.Alignment
                * AlignedMemoryPool.Alignment;
            return (at, (int)(end - at));
        }

        ValueTask<int> Issue(int index, int slot)
        {
            pending[slot] = true;
            (long at, int length) = Window(chunks[index]);
            return handles.ReadAsync(slot, buffers[bufferOf[slot]].Memory[..length], at, cancellationToken);
        }

        long verified = 0;
        try
        {
            // A ring of reads: while one block is compared, the next ones, its slot's among them, are already on their way.
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
                int filled = bufferOf[slot];
                if (done + inFlight < chunks.Count)
                {
                    (bufferOf[slot], spare) = (spare, filled);
                    reads[slot] = Issue(done + inFlight, slot);
                }

                if (read != chunk.Length)
                {
                    return (chunk.Offset + read, verified);
                }

                if (FirstMismatch(pass, keystream, chunk.Offset, buffers[filled].Memory.Span.Slice(skip, chunk.Length), scratch) is { } bad)
                {
                    return (bad, verified);
                }

                verified += chunk.Length;
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

    /// <summary>
    /// The offset of the first byte of <paramref name="actual"/> that is not what <paramref name="pass"/> writes there, if any.
    /// </summary>
    public static long? FirstMismatch(SanitizationPass pass, AesCtrKeystream? keystream, long offset, ReadOnlySpan<byte> actual,
        Span<byte> scratch)
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

    /// <summary>NIST-style sampling: the first and last chunks and <paramref name="sampledBlocks"/> others chosen at random.</summary>
    public static IReadOnlyList<WipeChunk> Sample(WipePlan chunks, int sampledBlocks)
    {
        if (chunks.Count <= sampledBlocks + 2)
        {
            return chunks;
        }

        var chosen = new SortedSet<int> { 0, chunks.Count - 1 };
        while (chosen.Count < sampledBlocks + 2)
        {
            chosen.Add(RandomNumberGenerator.GetInt32(chunks.Count));
        }

        return [.. chosen.Select(i => chunks[i])];
    }
}
