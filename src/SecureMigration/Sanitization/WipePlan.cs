using System.Collections;

namespace SecureMigration.Sanitization;

/// <summary>
/// The chunks a pass writes, in order: each extent split into an unaligned head and tail on their own and an aligned
/// body in blocks. Chunks are computed from their index, never stored, so a plan costs memory per extent, not per
/// block: a wipe of a whole device allocates nothing as it goes.
/// </summary>
internal sealed class WipePlan : IReadOnlyList<WipeChunk>
{
    private const int Alignment = AlignedMemoryPool.Alignment;

    private readonly IReadOnlyList<Extent> _extents;
    private readonly int _blockSize;
    private readonly int[] _firstChunk;
    private readonly long[] _bytesBefore;

    /// <summary>Plans the chunks of <paramref name="extents"/> (validated: in order, not overlapping) in blocks of
    /// <paramref name="blockSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The extents need more than <see cref="int.MaxValue"/> chunks at this block
    /// size.</exception>
    public WipePlan(IReadOnlyList<Extent> extents, int blockSize)
    {
        _extents = extents;
        _blockSize = blockSize;
        _firstChunk = new int[extents.Count + 1];
        _bytesBefore = new long[extents.Count + 1];
        long chunks = 0;
        for (int e = 0; e < extents.Count; e++)
        {
            _firstChunk[e] = (int)chunks;
            _bytesBefore[e + 1] = _bytesBefore[e] + extents[e].Length;
            Bounds bounds = new(extents[e]);
            chunks += (bounds.HasHead ? 1 : 0) + bounds.BodyChunks(blockSize) + (bounds.HasTail ? 1 : 0);
            if (chunks > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"The extents need more than {int.MaxValue} writes " +
                    $"of {blockSize} bytes; choose a larger block size.");
            }
        }

        _firstChunk[^1] = (int)chunks;
    }

    /// <summary>Gets the number of chunks.</summary>
    public int Count => _firstChunk[^1];

    /// <summary>Gets the bytes the plan covers.</summary>
    public long TotalBytes => _bytesBefore[^1];

    /// <summary>Gets the chunk at <paramref name="index"/>.</summary>
    public WipeChunk this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            int e = ExtentOf(index);
            Bounds bounds = new(_extents[e]);
            int k = index - _firstChunk[e];
            if (bounds.HasHead)
            {
                if (k == 0)
                {
                    return new WipeChunk(bounds.Start, (int)(bounds.AlignedStart - bounds.Start), Direct: false);
                }

                k--;
            }

            if (k < bounds.BodyChunks(_blockSize))
            {
                long at = bounds.AlignedStart + ((long)k * _blockSize);
                return new WipeChunk(at, (int)Math.Min(_blockSize, bounds.AlignedEnd - at), Direct: true);
            }

            return new WipeChunk(bounds.AlignedEnd, (int)(bounds.End - bounds.AlignedEnd), Direct: false);
        }
    }

    /// <summary>Gets the bytes of the chunks before <paramref name="index"/> (all of them when it is <see cref="Count"/>).</summary>
    public long BytesBefore(int index)
    {
        if (index >= Count)
        {
            return TotalBytes;
        }

        int e = ExtentOf(index);
        return _bytesBefore[e] + (this[index].Offset - _extents[e].Offset);
    }

    /// <inheritdoc/>
    public IEnumerator<WipeChunk> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The extent holding chunk <paramref name="index"/>: the last one whose first chunk is at or before it.</summary>
    private int ExtentOf(int index)
    {
        int low = 0;
        int high = _extents.Count - 1;
        while (low < high)
        {
            int middle = low + ((high - low + 1) / 2);
            if (_firstChunk[middle] <= index)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return low;
    }

    /// <summary>An extent with its aligned body: <c>[Start, AlignedStart)</c> head, <c>[AlignedStart, AlignedEnd)</c> body, <c>[AlignedEnd,
    /// End)</c> tail.</summary>
    private readonly struct Bounds(Extent extent)
    {
        public long Start { get; } = extent.Offset;

        public long End { get; } = extent.End;

        public long AlignedStart { get; } = Math.Min(extent.End, (extent.Offset + Alignment - 1) / Alignment * Alignment);

        public long AlignedEnd => Math.Max(AlignedStart, End / Alignment * Alignment);

        public bool HasHead => Start < AlignedStart;

        public bool HasTail => AlignedEnd < End;

        public long BodyChunks(int blockSize) => (AlignedEnd - AlignedStart + blockSize - 1) / blockSize;
    }
}
