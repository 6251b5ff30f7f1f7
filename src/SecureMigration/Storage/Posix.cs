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
}
