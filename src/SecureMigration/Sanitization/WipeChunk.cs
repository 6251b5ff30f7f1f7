namespace SecureMigration.Sanitization;

/// <summary>One write of a pass: at most a block, inside one extent; <see cref="Direct"/> when offset and length suit O_DIRECT.</summary>
internal readonly record struct WipeChunk(long Offset, int Length, bool Direct)
{
    /// <summary>Splits extents into chunks: unaligned heads and tails on their own, aligned bodies in blocks.</summary>
    public static List<WipeChunk> Plan(IReadOnlyList<Extent> extents, int blockSize)
    {
        const int Alignment = AlignedMemoryPool.Alignment;
        var chunks = new List<WipeChunk>();
        foreach (Extent extent in extents)
        {
            long offset = extent.Offset;
            long end = extent.End;
            long alignedStart = Math.Min(end, (offset + Alignment - 1) / Alignment * Alignment);
            long alignedEnd = Math.Max(alignedStart, end / Alignment * Alignment);
            if (offset < alignedStart)
            {
                chunks.Add(new WipeChunk(offset, (int)(alignedStart - offset), Direct: false));
            }

            for (long at = alignedStart; at < alignedEnd; at += blockSize)
            {
                chunks.Add(new WipeChunk(at, (int)Math.Min(blockSize, alignedEnd - at), Direct: true));
            }

            if (alignedEnd < end)
            {
                chunks.Add(new WipeChunk(alignedEnd, (int)(end - alignedEnd), Direct: false));
            }
        }

        return chunks;
    }
}
