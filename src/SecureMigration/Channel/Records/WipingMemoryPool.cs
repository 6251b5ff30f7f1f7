using System.Buffers;
using System.Security.Cryptography;

namespace SecureMigration.Channel.Records;

/// <summary>
/// A memory pool for buffers that hold decrypted VM data: every block is zeroed when it is returned, so no
/// plaintext outlives its use in pooled memory. Blocks and their owners are reused, so steady state allocates nothing.
/// </summary>
internal sealed class WipingMemoryPool : MemoryPool<byte>
{
    /// <summary>
    /// The size of each block: sixteen full records (each opened with its content-type byte), so the 256 KiB that one
    /// transport read brings opens into one block, and the application gets it as one segment and passes it on in one
    /// write (64 KiB blocks held three records: a receiver copying into a socket made a system call, and woke the
    /// socket's reader, per three records).
    /// </summary>
    public const int BlockSize = 16 * (RecordLayer.MaxPlaintext + 1);

    /// <summary>How many free blocks are kept: 4 MiB at most.</summary>
    private const int MaxRetained = 16;
    private readonly Stack<Block> _free = new();
    private readonly Lock _gate = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            return new Block(this, minBufferSize);
        }

        lock (_gate)
        {
            if (_free.TryPop(out Block? block))
            {
                block.Reuse();
                return block;
            }
        }

        return new Block(this, BlockSize);
    }

    protected override void Dispose(bool disposing)
    {
        lock (_gate)
        {
            _free.Clear();
        }
    }

    private void Return(Block block)
    {
        lock (_gate)
        {
            if (block.Length == BlockSize && _free.Count < MaxRetained)
            {
                _free.Push(block);
            }
        }
    }

    private sealed class Block(WipingMemoryPool pool, int length) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(length, pinned: false);
        private bool _rented = true;

        public int Length => _array.Length;

        public Memory<byte> Memory => _rented ? _array : throw new ObjectDisposedException(nameof(Block));

        public void Reuse() => _rented = true;

        public void Dispose()
        {
            if (!_rented)
            {
                return;
            }

            _rented = false;
            CryptographicOperations.ZeroMemory(_array);
            pool.Return(this);
        }
    }
}
