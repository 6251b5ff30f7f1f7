using System.Runtime.InteropServices;

namespace SecureMigration.Storage;

/// <summary>The few POSIX calls .NET does not expose: directory fsync, advisory locks on raw descriptors, reflink.</summary>
internal static partial class Posix
{
    public const int ReadOnly = 0;
    public const int ReadWriteCreate = 2 | 0x40 | 0x80000; // O_RDWR | O_CREAT | O_CLOEXEC (Linux)
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

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(int descriptor, int mode, long offset, long length);

    /// <summary>What <c>statx(2)</c> says of a file: its hard-link count and the bytes the file system allocated to it.</summary>
    public static (uint Links, long AllocatedBytes)? Stat(string path)
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

        return (BitConverter.ToUInt32(buffer[16..]), (long)BitConverter.ToUInt64(buffer[48..]) * 512);
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);
}
