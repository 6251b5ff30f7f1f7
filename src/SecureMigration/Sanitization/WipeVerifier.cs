using System.Security.Cryptography;

namespace SecureMigration.Sanitization;

/// <summary>
/// Checks that storage or memory holds what a pass wrote: reads blocks past the page cache where allowed, one slot per read
/// in flight, and compares each with the pass's pattern or keystream, generated again.
/// </summary>
internal static class WipeVerifier
{
    /// <summary>How much of a random or multi-byte pass verification regenerates at a time.</summary>
    public const int ScratchLength = 64 * 1024;

    /// <summary>
    /// Reads <paramref name="chunks"/> back and compares them with what <paramref name="pass"/> writes there: each slot reads its
    /// next chunk as soon as it has compared its last, on its own thread (<see cref="ChunkDispenser"/>), so the comparisons, and
    /// the keystream a random pass's comparison generates again, run on every core while the other slots' reads are at the
    /// device. A difference stops the chunks after it from being read; those before it are still compared, so the one reported
    /// is the first.
    /// </summary>
    /// <returns>The offset of the first byte that differs (or is missing), if any, and how many bytes matched before it.</returns>
    public static async Task<(long? Mismatch, long Verified)> VerifyAsync(SanitizerOptions options, SanitizationPass pass,
        AesCtrKeystream? keystream, IReadOnlyList<WipeChunk> chunks, WipeHandles handles, PassProgress progress,
        CancellationToken cancellationToken)
    {
        int depth = options.WritesInFlight;
        using var pool = new AlignedMemoryPool(options.BlockSize);
        var buffers = Enumerable.Range(0, depth).Select(_ => pool.Rent()).ToArray();
        var expected = new BlockFill?[depth];
        var differences = new (int Index, long Offset)?[depth];
        int[] failedAt = [.. Enumerable.Repeat(int.MaxValue, depth)];
        var dispenser = new ChunkDispenser(depth, 0, chunks.Count, 0, 0, progress);
        try
        {
            for (int slot = 0; slot < depth; slot++)
            {
                expected[slot] = BlockFill.ForSlot(pass, keystream);
            }

            // Every slot's reads have landed once these end, failed or not: only then may the pool take the buffers back.
            var slots = new Task[depth];
            for (int slot = 0; slot < depth; slot++)
            {
                slots[slot] = SlotAsync(slot, buffers[slot].Memory, expected[slot]!, chunks, handles, dispenser, differences,
                    failedAt, cancellationToken);
            }

            await Task.WhenAll(slots).ConfigureAwait(false);
            if (FirstDifference(differences, failedAt) is not { } first)
            {
                dispenser.ThrowIfFailed();
                return (null, dispenser.Done);
            }

            long before = 0;
            for (int i = 0; i < first.Index; i++)
            {
                before += chunks[i].Length;
            }

            return (first.Offset, before);
        }
        finally
        {
            foreach (System.Buffers.IMemoryOwner<byte> buffer in buffers)
            {
                buffer.Dispose();
            }

            foreach (BlockFill? fill in expected)
            {
                fill?.Dispose();
            }
        }
    }

    /// <summary>
    /// One slot's part of a verification: reads its next chunk into <paramref name="buffer"/> and compares it, until none is
    /// left or it finds a difference, which it records in <paramref name="differences"/> (a slot's first is its lowest: it takes
    /// chunks in order). A failure ends the verification; the chunk the slot was on then goes to <paramref name="failedAt"/>.
    /// </summary>
    private static async Task SlotAsync(int slot, Memory<byte> buffer, BlockFill expected, IReadOnlyList<WipeChunk> chunks,
        WipeHandles handles, ChunkDispenser dispenser, (int Index, long Offset)?[] differences, int[] failedAt,
        CancellationToken cancellationToken)
    {
        int current = int.MaxValue;
        try
        {
            byte[] scratch = new byte[ScratchLength];
            while (!cancellationToken.IsCancellationRequested && dispenser.TryTake(slot, out int index))
            {
                current = index;
                WipeChunk chunk = chunks[index];
                (long at, int length) = Window(chunk, handles.DirectIo);
                int skip = (int)(chunk.Offset - at);
                int got = await handles.ReadAsync(slot, buffer[..length], at, cancellationToken).ConfigureAwait(false);
                // A page read past the end of the file comes back short: only the chunk's own bytes must be there.
                int read = Math.Clamp(got - skip, 0, chunk.Length);
                long? difference = read != chunk.Length
                    ? chunk.Offset + read
                    : expected.FirstMismatch(chunk.Offset, buffer.Span.Slice(skip, chunk.Length), scratch);
                if (difference is { } offset)
                {
                    differences[slot] = (index, offset);
                    dispenser.EndAt(index);
                    return;
                }

                dispenser.Complete(slot, chunk.Length);
                current = int.MaxValue;
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (Exception e)
        {
            failedAt[slot] = current;
            dispenser.Fail(e);
        }
    }

    /// <summary>
    /// The lowest of the slots' <paramref name="differences"/> (by chunk), unless a slot failed on a chunk below it
    /// (<paramref name="failedAt"/>; <see cref="int.MaxValue"/> when a slot did not fail, or failed between two chunks): every
    /// chunk below the difference was then compared and matched, so a failure past it (a read's error, a cancellation) does not
    /// hide it, while one below it does, since a chunk there was never compared.
    /// </summary>
    internal static (int Index, long Offset)? FirstDifference((int Index, long Offset)?[] differences, int[] failedAt)
    {
        (int Index, long Offset)? first = null;
        foreach ((int Index, long Offset)? difference in differences)
        {
            if (difference is { } found && (first is null || found.Index < first.Value.Index))
            {
                first = found;
            }
        }

        return first is { } lowest && lowest.Index < failedAt.Min() ? lowest : null;
    }

    /// <summary>What a chunk's read covers: with O_DIRECT every read bypasses the page cache, so an unaligned head or tail is
    /// read as the whole page around it.</summary>
    private static (long At, int Length) Window(WipeChunk chunk, bool directIo)
    {
        if (chunk.Direct || !directIo)
        {
            return (chunk.Offset, chunk.Length);
        }

        long at = chunk.Offset / AlignedMemoryPool.Alignment * AlignedMemoryPool.Alignment;
        long end = (chunk.Offset + chunk.Length + AlignedMemoryPool.Alignment - 1) / AlignedMemoryPool.Alignment
            * AlignedMemoryPool.Alignment;
        return (at, (int)(end - at));
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
