using System.Buffers.Binary;

namespace SecureMigration.Fuzz;

/// <summary>Reads a structured fuzz input from the front; past the end every read gives zeros or nothing.</summary>
internal ref struct FuzzInput(ReadOnlySpan<byte> bytes)
{
    private ReadOnlySpan<byte> _rest = bytes;

    public readonly bool IsEmpty => _rest.IsEmpty;

    public readonly ReadOnlySpan<byte> Rest => _rest;

    public byte Byte()
    {
        if (_rest.IsEmpty)
        {
            return 0;
        }

        byte value = _rest[0];
        _rest = _rest[1..];
        return value;
    }

    public ushort UInt16()
    {
        Span<byte> two = [Byte(), Byte()];
        return BinaryPrimitives.ReadUInt16BigEndian(two);
    }

    /// <summary>Takes up to <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> Bytes(int count)
    {
        ReadOnlySpan<byte> taken = _rest[..Math.Min(count, _rest.Length)];
        _rest = _rest[taken.Length..];
        return taken;
    }
}
