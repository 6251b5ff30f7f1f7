using System.Runtime.InteropServices;

namespace SecureMigration.Storage;

/// <summary>The few POSIX calls .NET does not expose: directory fsync, advisory locks on raw descriptors, reflink.</summary>
internal static partial class Posix
{
    // open(2) flags on Linux.
    public const int ReadOnly = 0;
    public const int ReadWrite = 2 | CloseOnExec;
    public const int ReadWriteCreate = ReadWrite | 0x40;
    public const int ReadWriteDirect = ReadWrite | 0x4000;
    private const int CloseOnExec = 0x80000;
    public const int LockExclusive = 2;
    public const uint Ficlone = 0x40049409;

    public static bool IsSupported => OperatingSystem.IsLinux();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int descriptor, int operation);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int descriptor, uint request, int argument);

    public const int FallocPunchHole = 0x02 | 0x01; // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE

    /// <summary>The size of a block device in bytes (<c>BLKGETSIZE64</c>), or <see langword="null"/>.</summary>
    public static long? BlockDeviceSize(int descriptor)
    {
        const uint GetSize64 = 0x80081272;
        long size = 0;
        return IsSupported && IoctlLong(descriptor, GetSize64, ref size) == 0 ? size : null;
    }

    /// <summary>Discards a range of a block device (<c>BLKDISCARD</c>).</summary>
    public static bool DiscardBlocks(int descriptor, long offset, long length)
    {
        const uint Discard = 0x1277;
        Span<long> range = [offset, length];
        return IsSupported && IoctlLong(descriptor, Discard, ref range[0]) == 0;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlLong(int descriptor, uint request, ref long argument);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int descriptor, int mode, long offset, long length);

    /// <summary>What <c>statx(2)</c> says of a file: its hard-link count, the bytes the file system allocated to it, whether it is a block device.</summary>
    public static (uint Links, long AllocatedBytes, bool IsBlockDevice)? Stat(string path)
    {
        if (!IsSupported)
        {
            return null;
        }

        // struct statx is the same on every Linux architecture: stx_nlink (u32) at 16, stx_blocks (u64, 512-byte units) at 48.
        Span<byte> buffer = stackalloc byte[256];
        const int AtFdCwd = -100;
        const uint Basic = 0x7FF;
        if (Statx(AtFdCwd, path, 0, Basic, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return null;
        }

        const int TypeMask = 0xF000;
        const int BlockDevice = 0x6000;
        return (BitConverter.ToUInt32(buffer[16..]), (long)BitConverter.ToUInt64(buffer[48..]) * 512, (BitConverter.ToUInt16(buffer[28..]) & TypeMask) == BlockDevice);
    }

    /// <summary>
    /// Whether another open file description holds a lock on the file (<c>fcntl F_OFD_GETLK</c>): QEMU locks the images
    /// of running VMs this way, and classic POSIX record locks show up too.
    /// </summary>
    public static bool IsLockedByAnother(int descriptor)
    {
        if (!IsSupported)
        {
            return false;
        }

        // struct flock (LP64): l_type (short) at 0, l_whence (short) at 2, l_start at 8, l_len at 16, l_pid at 24.
        Span<byte> flock = stackalloc byte[32];
        flock.Clear();
        BitConverter.TryWriteBytes(flock, WriteLock);
        const int OfdGetLock = 36;
        return Fcntl(descriptor, OfdGetLock, ref MemoryMarshal.GetReference(flock)) == 0 && BitConverter.ToInt16(flock) != Unlock;
    }

    /// <summary>Takes a write lock on the whole file for this open file description (<c>fcntl F_OFD_SETLK</c>), as QEMU does on an image.</summary>
    public static bool TryLockAsHypervisor(int descriptor)
    {
        Span<byte> flock = stackalloc byte[32];
        flock.Clear();
        BitConverter.TryWriteBytes(flock, WriteLock);
        const int OfdSetLock = 37;
        return Fcntl(descriptor, OfdSetLock, ref MemoryMarshal.GetReference(flock)) == 0;
    }

    private const short WriteLock = 1;
    private const short Unlock = 2;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int descriptor, int command, ref byte flock);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);
}
