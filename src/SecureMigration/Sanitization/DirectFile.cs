using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>Opens a file for I/O that bypasses the page cache (<c>O_DIRECT</c>), where the file system allows it.</summary>
internal static class DirectFile
{
    /// <summary>Returns a handle that bypasses the page cache, or <see langword="null"/> where the file system refuses (tmpfs, some FUSE).</summary>
    public static SafeFileHandle? TryOpen(string path)
    {
        if (!Posix.IsSupported)
        {
            return null;
        }

        int descriptor = Posix.Open(path, Posix.ReadWriteDirect, 0);
        return descriptor < 0 ? null : new SafeFileHandle(descriptor, ownsHandle: true);
    }
}
