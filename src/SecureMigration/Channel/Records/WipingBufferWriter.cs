using System.Buffers;
using System.Security.Cryptography;

namespace SecureMigration.Channel.Records;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> for bytes that may hold decrypted VM data or key material: when it grows, the
/// old array is zeroed before it is dropped, and <see cref="Dispose"/> zeroes the last one.
/// </summary>
internal sealed class WipingBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public WipingBufferWriter(int initialCapacity) => _buffer = new byte[Math.Max(initialCapacity, 1)];

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_buffer);
        _written = 0;
    }

    private void Reserve(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        byte[] larger = new byte[Math.Max(checked(_written + needed), _buffer.Length * 2)];
        _buffer.AsSpan(0, _written).CopyTo(larger);
        CryptographicOperations.ZeroMemory(_buffer);
        _buffer = larger;
    }
}
