using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>
/// Opens the target of a file wipe: never through a symbolic link, only as the planned file, and only when nothing else uses it.
/// </summary>
internal static class WipeTarget
{
    /// <summary>
    /// Opens the target for the wipe, never through a symbolic link and only as the planned file, refusing it when
    /// another process has it open exclusively (<c>flock</c>, as .NET's <see cref="FileShare.None"/>) or, unless
    /// <paramref name="force"/>, holds a lock on it.
    /// </summary>
    public static SafeFileHandle OpenExclusive(string path, FileIdentity? planned, bool isDevice, bool force)
    {
        SafeFileHandle handle = isDevice
            ? OpenDevice(path, planned)
            : NoFollowFile.Open(path, FileMode.Open, FileAccess.ReadWrite, planned);
        if (Posix.IsSupported && Posix.Flock((int)handle.DangerousGetHandle(), Posix.LockExclusive | Posix.LockNonBlocking) != 0)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new FileInUseException(path, $"another process has it open exclusively (flock: errno {errno})");
        }

        if (!force && Posix.IsLockedByAnother((int)handle.DangerousGetHandle()))
        {
            Close(handle);
            throw new FileInUseException(path, "another process holds a lock on it (a hypervisor running a VM from it?)");
        }

        return handle;
    }

    /// <summary>
    /// Releases the wipe's <c>flock</c> on <paramref name="handle"/>, then closes it. A lock belongs to the open file description,
    /// not the descriptor: a child another thread of this process is starting holds a copy of every descriptor until its
    /// <c>exec</c>, and a close alone left the lock held that long, so whoever opened the file right after the wipe could be
    /// refused (.NET's own <see cref="FileShare"/> handles unlock before they close, for the same reason).
    /// </summary>
    public static void Close(SafeFileHandle handle)
    {
        if (Posix.IsSupported && !handle.IsClosed && !handle.IsInvalid)
        {
            _ = Posix.Flock((int)handle.DangerousGetHandle(), Posix.LockRelease);
        }

        handle.Dispose();
    }

    /// <summary>
    /// Opens a block device for the wipe with <c>O_EXCL</c>, which the kernel refuses while a file system is mounted on
    /// it (or swap, device-mapper or RAID claims it) and which, once held, stops any of its partitions from being mounted
    /// meanwhile; then refuses it when it, a partition of it or a device stacked on it is mounted, when a volume is stacked on it or
    /// on a partition (whose claim O_EXCL already meets: this names it), or when a loop device is set up over it or a partition
    /// (which claims nothing).
    /// </summary>
    private static SafeFileHandle OpenDevice(string device, FileIdentity? planned)
    {
        if (!Posix.IsSupported)
        {
            return NoFollowFile.Open(device, FileMode.Open, FileAccess.ReadWrite, planned);
        }

        SafeFileHandle? handle = NoFollowFile.TryOpen(device, Posix.ReadWrite | Posix.Exclusive, planned, out int errno);
        if (handle is null && errno == Posix.Busy)
        {
            // Held exclusively: say by what when it is a mount.
            using SafeFileHandle look = NoFollowFile.Open(device, FileMode.Open, FileAccess.Read, planned);
            throw new BlockDeviceRefusedException(device, BlockDeviceUsage.InUse((int)look.DangerousGetHandle()) is { } held
                ? held
                : "another user holds it exclusively (swap, device-mapper, RAID or a program that opened it with O_EXCL?); " +
                    "stop that use first");
        }

        if (handle is null)
        {
            throw new IOException($"The block device '{device}' could not be opened (errno {errno}).", errno);
        }

        string? use;
        try
        {
            use = BlockDeviceUsage.InUse((int)handle.DangerousGetHandle());
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        if (use is not null)
        {
            handle.Dispose();
            throw new BlockDeviceRefusedException(device, use);
        }

        return handle;
    }
}
