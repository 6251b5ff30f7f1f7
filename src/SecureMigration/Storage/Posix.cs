using System.Runtime.InteropServices;

namespace SecureMigration.Storage;

/// <summary>The few POSIX calls .NET does not expose: directory fsync, advisory locks on raw descriptors, reflink, opens that never follow
/// a symbolic link.</summary>
internal static partial class Posix
{
    // open(2) flags on Linux.
    public const int ReadOnly = 0;
    public const int ReadWrite = 2 | CloseOnExec;
    public const int ReadWriteCreate = ReadWrite | Create;
    public const int ReadWriteDirect = ReadWrite | Direct;
    public const int Create = 0x40;
    public const int Exclusive = 0x80;
    public const int Truncate = 0x200;
    public const int Direct = 0x4000;
    public const int DirectoryOnly = 0x10000;
    public const int WriteOnly = 1 | CloseOnExec;
    public const int ReadOnlyCloseOnExec = CloseOnExec;
    public const int NonBlocking = 0x800; // O_NONBLOCK: opening a FIFO does not wait for a writer
    private const int NoFollow = 0x20000;
    private const int CloseOnExec = 0x80000;
    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;
    public const int LockRelease = 8; // LOCK_UN

    // errno values on Linux.
    public const int TooManyLinks = 40; // ELOOP: a symbolic link where none may be
    public const int NoSuchFile = 2; // ENOENT
    public const int AccessDenied = 13; // EACCES
    public const int NotDirectory = 20; // ENOTDIR
    public const int Busy = 16; // EBUSY
    private const int NotImplemented = 38; // ENOSYS
    private const int NotPermitted = 1; // EPERM

    private const int AtFdCwd = -100;
    private static bool s_openat2 = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
    public const uint Ficlone = 0x40049409;

    public static bool IsSupported => OperatingSystem.IsLinux();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    /// <summary>Gets or sets whether <see cref="OpenNoFollow"/> tries <c>openat2</c> first (tests turn it off to exercise the
    /// fallback).</summary>
    internal static bool UseOpenAt2
    {
        get => s_openat2;
        set => s_openat2 = value;
    }

    /// <summary>
    /// Opens <paramref name="path"/> (a full path) without following any symbolic link: <c>openat2</c> with
    /// <c>RESOLVE_NO_SYMLINKS</c> refuses one anywhere in the path. Where the kernel has no <c>openat2</c> (before
    /// Linux 5.6, or a seccomp filter that hides it), <c>O_NOFOLLOW</c> refuses one as the last component, and the
    /// path the kernel resolved for the open descriptor (<c>/proc/self/fd</c>) must be the path asked for, which
    /// refuses one among the parents. A refusal is -1 with errno <see cref="TooManyLinks"/>.
    /// </summary>
    /// <returns>The descriptor, or -1 with errno set.</returns>
    public static int OpenNoFollow(string path, int flags, int mode)
    {
        if (s_openat2)
        {
            // openat2(2) is syscall 437 on every architecture that uses the generic table (x86-64 and arm64 among them).
            const long OpenAt2 = 437;
            const ulong ResolveNoSymlinks = 0x04;
            // openat2 refuses a mode unless it creates the file.
            var how = new OpenHow((ulong)(flags | NoFollow), (flags & Create) != 0 ? (ulong)mode : 0, ResolveNoSymlinks);
            long descriptor = Syscall(OpenAt2, AtFdCwd, path, ref how, (nuint)Marshal.SizeOf<OpenHow>());
            if (descriptor >= 0)
            {
                return (int)descriptor;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == NotImplemented)
            {
                s_openat2 = false;
            }
            else if (errno != NotPermitted)
            {
                return -1;
            }
        }

        int opened = Open(path, flags | NoFollow, mode);
        if (opened >= 0 && new FileInfo($"/proc/self/fd/{opened}").LinkTarget is { } resolved && resolved != Path.GetFullPath(path))
        {
            _ = Close(opened);
            Marshal.SetLastPInvokeError(TooManyLinks);
            return -1;
        }

        return opened;
    }

    /// <summary>A file's identity (device and inode) from <c>statx</c> on a path, not following a final symbolic link;
    /// <see langword="null"/> when it cannot be read.</summary>
    public static FileIdentity? IdentityOf(string path) => StatxIdentity(AtFdCwd, path, SymlinkNoFollow);

    /// <summary>The identity of <paramref name="name"/> in an open directory, not following a symbolic link; <see langword="null"/> when it
    /// cannot be read.</summary>
    public static FileIdentity? IdentityOf(int directory, string name) => StatxIdentity(directory, name, SymlinkNoFollow);

    /// <summary>The identity (device and inode) of the file an open descriptor refers to (<c>statx</c> with <c>AT_EMPTY_PATH</c>, an
    /// fstat).</summary>
    public static FileIdentity? IdentityOf(int descriptor) => StatxIdentity(descriptor, string.Empty, EmptyPath);

    /// <summary>The device number (<c>MAJOR:MINOR</c>, as <c>/proc/self/mountinfo</c> and <c>/sys</c> write it) of the device special file
    /// open on <paramref name="descriptor"/>.</summary>
    public static string? DeviceNumberOf(int descriptor)
    {
        if (!IsSupported)
        {
            return null;
        }

        // struct statx: stx_rdev_major/minor (u32) at 128/132.
        Span<byte> buffer = stackalloc byte[256];
        const uint Basic = 0x7FF;
        return Statx(descriptor, string.Empty, EmptyPath, Basic, ref MemoryMarshal.GetReference(buffer)) == 0
            ? $"{BitConverter.ToUInt32(buffer[128..])}:{BitConverter.ToUInt32(buffer[132..])}"
            : null;
    }

    private const int SymlinkNoFollow = 0x100;
    private const int EmptyPath = 0x1000;

    private static FileIdentity? StatxIdentity(int directory, string path, int flags)
    {
        if (!IsSupported)
        {
            return null;
        }

        // struct statx: stx_mode (u16) at 28, stx_ino (u64) at 32, stx_size (u64) at 40, stx_dev_major/minor (u32) at 136/140.
        Span<byte> buffer = stackalloc byte[256];
        const uint Basic = 0x7FF;
        if (Statx(directory, path, flags, Basic, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return null;
        }

        return new FileIdentity(BitConverter.ToUInt32(buffer[136..]), BitConverter.ToUInt32(buffer[140..]),
            BitConverter.ToUInt64(buffer[32..]));
    }

    /// <summary><c>struct open_how</c> of <c>openat2(2)</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct OpenHow(ulong Flags, ulong Mode, ulong Resolve);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, int directory, string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Unlinkat(int directory, string name, int flags);

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

    /// <summary>What <c>statx(2)</c> says of a file: its hard-link count, the bytes the file system allocated to it, its type and mode,
    /// its owner. A final symbolic link is not followed (the link itself is described) unless <paramref name="followLink"/>.</summary>
    /// <returns>The status, or <see langword="null"/> when it cannot be read (no such file, not Linux).</returns>
    public static FileStatus? Stat(string path, bool followLink = false)
    {
        if (!IsSupported)
        {
            return null;
        }

        // struct statx is the same on every Linux architecture: stx_nlink (u32) at 16, stx_uid (u32) at 20, stx_mode (u16) at 28,
        // stx_blocks (u64, 512-byte units) at 48.
        Span<byte> buffer = stackalloc byte[256];
        const uint Basic = 0x7FF;
        if (Statx(AtFdCwd, path, followLink ? 0 : SymlinkNoFollow, Basic, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return null;
        }

        return new FileStatus(BitConverter.ToUInt32(buffer[16..]), (long)BitConverter.ToUInt64(buffer[48..]) * 512,
            BitConverter.ToUInt16(buffer[28..]), BitConverter.ToUInt32(buffer[20..]));
    }

    /// <summary>The path with every symbolic link, <c>.</c> and <c>..</c> resolved (<c>realpath(3)</c>), or <see langword="null"/> when it
    /// cannot be resolved (a component is missing, not Linux).</summary>
    public static string? RealPath(string path)
    {
        if (!IsSupported)
        {
            return null;
        }

        nint resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Marshal.FreeHGlobal(resolved); // free(3) on Unix
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    /// <summary>The uid this process runs as.</summary>
    public static uint EffectiveUserId() => GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    /// <summary>The uid that owns a file (not a symbolic link's target), from <c>statx(2)</c>; <see langword="null"/> when it cannot be
    /// read.</summary>
    public static uint? Owner(string path) => Stat(path)?.Owner;

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

    /// <summary>Takes a write lock on the whole file for this open file description (<c>fcntl F_OFD_SETLK</c>), as QEMU does on an
    /// image.</summary>
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
