using System.Buffers.Binary;

namespace SecureMigration.Testing.Simulation;

/// <summary>
/// The simulated hypervisor's migration stream: <c>"SIMVM1\0\0" | image size (u64) | block size (u32)</c>, then
/// blocks <c>offset (u64) | length (u32) | bytes</c>, ended by a block at offset <see cref="ulong.MaxValue"/> of length 0.
/// All integers little-endian.
/// </summary>
internal static class SimulatedStream
{
    public const int HeaderLength = 8 + sizeof(ulong) + sizeof(uint);
    public const int BlockHeaderLength = sizeof(ulong) + sizeof(uint);
    public const ulong EndOffset = ulong.MaxValue;

    public static ReadOnlySpan<byte> Magic => "SIMVM1\0\0"u8;

    public static void WriteHeader(Span<byte> destination, long size, int blockSize)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)size);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)blockSize);
    }

    public static void WriteBlockHeader(Span<byte> destination, ulong offset, int length)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)length);
    }
}
