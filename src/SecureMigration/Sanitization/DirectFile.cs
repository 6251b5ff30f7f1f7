using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;

namespace SecureMigration.Sanitization;

/// <summary>Opens a file for I/O that bypasses the page cache (<c>O_DIRECT</c>), where the file system allows it.</summary>
internal static class DirectFile
{
    /// <summary>
    /// Returns a handle that bypasses the page cache, or <see langword="null"/> where the file system refuses (tmpfs,
    /// some FUSE); never through a symbolic link, and only to the file <paramref name="identity"/> names.
    /// </summary>
    /// <exception cref="SymbolicLinkRefusedException">The path is or passes through a symbolic link.</exception>
    /// <exception cref="FileReplacedException">The path now names another file.</exception>
    public static SafeFileHandle? TryOpen(string path, FileIdentity? identity) =>
        Posix.IsSupported ? NoFollowFile.TryOpen(path, Posix.ReadWriteDirect, identity, out _) : null;
}
