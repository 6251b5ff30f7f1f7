using System.Buffers;
using System.Runtime.InteropServices;

namespace SecureMigration.Sanitization;

/// <summary>
/// Blocks of native memory aligned for direct I/O, all of one size, reused rather than freed; a pipe built on this
/// pool hands out one whole aligned block per segment. Blocks are freed when the pool is disposed.
/// </summary>
internal sealed unsafe class AlignedMemoryPool : MemoryPool<byte>
{
    public const int Alignment = 4096;

    private readonly int _blockSize;
    private readonly Stack<Block> _free = new();
    private readonly List<Block> _all = [];
    private readonly Lock _gate = new();

    public AlignedMemoryPool(int blockSize)
    {
        if (blockSize <= 0 || blockSize % Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"Blocks are a positive multiple of {Alignment} bytes.");
        }

        _blockSize = blockSize;
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

            block = new Block(this, (byte*)NativeMemory.AlignedAlloc((nuint)_blockSize, Alignment), _blockSize) { Rented = true };
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
                block.Free();
            }

            _all.Clear();
            _free.Clear();
        }
    }

    private sealed class Block(AlignedMemoryPool pool, byte* pointer, int length) : MemoryManager<byte>
    {
        private byte* _pointer = pointer;

        public bool Rented { get; set; }

        public override Span<byte> GetSpan() => new(_pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        public void Free()
        {
            if (_pointer != null)
            {
                NativeMemory.AlignedFree(_pointer);
                _pointer = null;
            }
        }

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
