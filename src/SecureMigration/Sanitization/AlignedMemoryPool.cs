using System.Buffers;
using System.Runtime.InteropServices;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Blocks of native memory aligned for direct I/O, all of one size, reused rather than freed; freed when the pool is
/// disposed. Blocks of <see cref="HugeBlockMinimum"/> or more that tile a 2 MiB page are carved from 2 MiB-aligned slabs the
/// kernel is asked to back with transparent huge pages: every O_DIRECT read or write pins its block's pages, 256 small pages
/// per MiB against half a huge page, and on a RAM-backed loop device bare O_DIRECT reads of 1 MiB blocks took 19 ms of this
/// process's CPU per GiB in huge pages against 66 ms in small ones (docs/benchmarks.md, issue 20, run 7).
/// </summary>
internal sealed unsafe class AlignedMemoryPool : MemoryPool<byte>
{
    public const int Alignment = 4096;

    /// <summary>The smallest block carved from huge-page slabs; smaller pools (and odd sizes) get one allocation a block.</summary>
    public const int HugeBlockMinimum = 256 * 1024;

    private const int HugePage = 2 * 1024 * 1024;

    private readonly int _blockSize;
    private readonly int _slabSize;
    private readonly Stack<Block> _free = new();
    private readonly List<nint> _regions = [];
    private readonly List<Block> _all = [];
    private readonly Lock _gate = new();
    private byte* _slab;
    private int _carved;

    public AlignedMemoryPool(int blockSize)
    {
        if (blockSize <= 0 || blockSize % Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"Blocks are a positive multiple of {Alignment} bytes.");
        }

        _blockSize = blockSize;
        bool tiles = blockSize >= HugeBlockMinimum && (HugePage % blockSize == 0 || blockSize % HugePage == 0);
        _slabSize = tiles ? Math.Max(blockSize, HugePage) : 0;
    }

    public override int MaxBufferSize => _blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"This pool's blocks are {_blockSize} bytes.");
        }

        lock (_gate)
        {
            if (_free.TryPop(out Block? block))
            {
                block.Rented = true;
                return block;
            }

            block = new Block(this, Carve(), _blockSize) { Rented = true };
            _all.Add(block);
            return block;
        }
    }

    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            foreach (Block block in _all)
            {
                block.Detach();
            }

            foreach (nint region in _regions)
            {
                NativeMemory.AlignedFree((void*)region);
            }

            _all.Clear();
            _free.Clear();
            _regions.Clear();
            _slab = null;
        }
    }

    /// <summary>The next block's memory: the rest of the current slab, a new slab, or an allocation of its own.</summary>
    private byte* Carve()
    {
        if (_slabSize == 0)
        {
            byte* own = (byte*)NativeMemory.AlignedAlloc((nuint)_blockSize, Alignment);
            _regions.Add((nint)own);
            return own;
        }

        if (_slab is null || _carved + _blockSize > _slabSize)
        {
            _slab = (byte*)NativeMemory.AlignedAlloc((nuint)_slabSize, HugePage);
            _regions.Add((nint)_slab);
            _ = Posix.AdviseHugePages((nint)_slab, (nuint)_slabSize);
            _carved = 0;
        }

        byte* block = _slab + _carved;
        _carved += _blockSize;
        return block;
    }

    private sealed class Block(AlignedMemoryPool pool, byte* pointer, int length) : MemoryManager<byte>
    {
        private byte* _pointer = pointer;

        public bool Rented { get; set; }

        public override Span<byte> GetSpan() => _pointer is null ? throw new ObjectDisposedException(nameof(AlignedMemoryPool))
            : new(_pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        /// <summary>Forgets the memory, which the pool frees.</summary>
        public void Detach() => _pointer = null;

        protected override void Dispose(bool disposing)
        {
            if (Rented)
            {
                Rented = false;
                lock (pool._gate)
                {
                    pool._free.Push(this);
                }
            }
        }
    }
}
