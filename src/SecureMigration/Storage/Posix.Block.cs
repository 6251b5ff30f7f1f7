using System.Runtime.InteropServices;

namespace SecureMigration.Storage;

/// <summary>The block-device ioctls: sizes, limits, and the zero-out, discard and identify requests.</summary>
internal static partial class Posix
{
    /// <summary>The size of a block device in bytes (<c>BLKGETSIZE64</c>), or <see langword="null"/>.</summary>
    public static long? BlockDeviceSize(int descriptor)
    {
        const uint GetSize64 = 0x80081272;
        long size = 0;
        return IsSupported && IoctlLong(descriptor, GetSize64, ref size) == 0 ? size : null;
    }

    /// <summary>The logical (<c>BLKSSZGET</c>) and physical (<c>BLKPBSZGET</c>) block sizes of a block device, or zero where
    /// unknown.</summary>
    public static (int Logical, int Physical) BlockSizes(int descriptor)
    {
        const uint SectorSize = 0x1268;
        const uint PhysicalSectorSize = 0x127B;
        int logical = 0;
        int physical = 0;
        if (IsSupported)
        {
            _ = IoctlInt(descriptor, SectorSize, ref logical);
            _ = IoctlInt(descriptor, PhysicalSectorSize, ref physical);
        }

        return (logical, physical);
    }

    /// <summary>Whether a block device says it is rotational (<c>BLKROTATIONAL</c>), or <see langword="null"/> when it cannot
    /// say.</summary>
    public static bool? IsRotational(int descriptor)
    {
        const uint Rotational = 0x127E;
        int value = 0; // an unsigned short; the int's upper half stays zero on little-endian machines
        return IsSupported && BitConverter.IsLittleEndian && IoctlInt(descriptor, Rotational, ref value) == 0
            ? (value & 0xFFFF) != 0
            : null;
    }

    /// <summary>Discards a range of a block device (<c>BLKDISCARD</c>).</summary>
    public static bool DiscardBlocks(int descriptor, long offset, long length) => RangeIoctl(descriptor, 0x1277, offset, length);

    /// <summary>Asks the device to erase a range and every copy of it (<c>BLKSECDISCARD</c>; eMMC secure erase/trim).</summary>
    public static bool SecureDiscardBlocks(int descriptor, long offset, long length) => RangeIoctl(descriptor, 0x127D, offset, length);

    /// <summary>Zeroes a range of a block device in the kernel (<c>BLKZEROOUT</c>): the device's WRITE ZEROES or WRITE SAME where it
    /// offers one, the kernel's own writes of zero pages otherwise. The range's page cache is dropped first.</summary>
    public static bool ZeroOutBlocks(int descriptor, long offset, long length) => RangeIoctl(descriptor, 0x127F, offset, length);

    /// <summary>An ioctl whose argument points at memory of the caller's (identify data, a pass-through command).</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int IoctlBuffer(int descriptor, nuint request, ref byte argument);

    private static bool RangeIoctl(int descriptor, uint request, long offset, long length)
    {
        Span<long> range = [offset, length];
        return IsSupported && IoctlLong(descriptor, request, ref range[0]) == 0;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlLong(int descriptor, uint request, ref long argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlInt(int descriptor, uint request, ref int argument);
}
