using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SecureMigration.Storage;

/// <summary>
/// Opens a file that is about to be wiped, deleted, truncated or snapshotted: never through a symbolic link (anywhere
/// in the path where the kernel has <c>openat2</c>, the last component elsewhere), and, given the identity recorded
/// when the operation was planned, only that very file (checked on the open descriptor, so a swap in between is seen).
/// Where the OS has no such calls (not Linux), .NET's own open is used.
/// </summary>
internal static class NoFollowFile
{
    /// <summary>Opens <paramref name="path"/>; throws when it cannot.</summary>
    /// <param name="path">A full path.</param>
    /// <param name="mode">How to open or create it.</param>
    /// <param name="access">Read, write or both.</param>
    /// <param name="expected">The identity recorded for the path earlier, or <see langword="null"/>.</param>
    /// <exception cref="SymbolicLinkRefusedException">The path is or passes through a symbolic link.</exception>
    /// <exception cref="FileReplacedException">The file opened is not <paramref name="expected"/>.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="IOException">The file could not be opened.</exception>
    public static SafeFileHandle Open(string path, FileMode mode, FileAccess access, FileIdentity? expected = null)
    {
        if (!Posix.IsSupported)
        {
            return File.OpenHandle(path, mode, access, FileShare.ReadWrite);
        }

        return TryOpen(path, Flags(mode, access), expected, out int errno) ?? throw errno switch
        {
            Posix.NoSuchFile => new FileNotFoundException($"There is no file '{path}'.", path),
            Posix.AccessDenied => new UnauthorizedAccessException($"Access to '{path}' is denied (errno {errno})."),
            _ => new IOException($"'{path}' could not be opened (errno {errno}).", errno),
        };
    }

    /// <summary>Opens <paramref name="path"/> with raw <c>open(2)</c> flags, or returns <see langword="null"/> and the errno (Linux
    /// only).</summary>
    /// <exception cref="SymbolicLinkRefusedException">The path is or passes through a symbolic link.</exception>
    /// <exception cref="FileReplacedException">The file opened is not <paramref name="expected"/>.</exception>
    public static SafeFileHandle? TryOpen(string path, int flags, FileIdentity? expected, out int errno)
    {
        int descriptor = Posix.OpenNoFollow(path, flags, Convert.ToInt32("600", 8));
        if (descriptor < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            // O_NOFOLLOW with O_DIRECTORY says ENOTDIR of a symbolic link to a directory.
            if (errno == Posix.TooManyLinks || (errno == Posix.NotDirectory && FirstSymbolicLink(path) is not null))
            {
                throw new SymbolicLinkRefusedException(path, FirstSymbolicLink(path) ?? path);
            }

            return null;
        }

        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        if (expected is { } recorded && Posix.IdentityOf(descriptor) is { } actual && actual != recorded)
        {
            handle.Dispose();
            throw new FileReplacedException(path, recorded, actual);
        }

        errno = 0;
        return handle;
    }

    /// <summary>
    /// Deletes <paramref name="path"/>: its directory is opened without following a symbolic link, and the entry is
    /// removed only while it is still <paramref name="expected"/> (a symbolic link itself is removed, never its target).
    /// A file already gone is not an error.
    /// </summary>
    /// <exception cref="SymbolicLinkRefusedException">The directory is or passes through a symbolic link.</exception>
    /// <exception cref="FileReplacedException">The entry now names another file; it is kept.</exception>
    /// <exception cref="IOException">The entry could not be removed.</exception>
    public static void Delete(string path, FileIdentity? expected)
    {
        if (!Posix.IsSupported)
        {
            File.Delete(path);
            return;
        }

        string directory = Path.GetDirectoryName(path)!;
        string name = Path.GetFileName(path);
        using SafeFileHandle? parent = TryOpen(directory, Posix.ReadOnlyCloseOnExec | Posix.DirectoryOnly, null, out int errno);
        if (parent is null)
        {
            if (errno != Posix.NoSuchFile)
            {
                throw new IOException($"The directory of '{path}' could not be opened to delete it (errno {errno}).", errno);
            }

            return;
        }

        int descriptor = (int)parent.DangerousGetHandle();
        if (Posix.IdentityOf(descriptor, name) is not { } now)
        {
            return;
        }

        if (expected is { } recorded && now != recorded)
        {
            throw new FileReplacedException(path, recorded, now);
        }

        if (Posix.Unlinkat(descriptor, name, 0) != 0 && Marshal.GetLastPInvokeError() is var failure && failure != Posix.NoSuchFile)
        {
            throw new IOException($"'{path}' could not be deleted (errno {failure}).", failure);
        }
    }

    /// <summary>The first symbolic link on the way to <paramref name="path"/> (a parent directory or the file itself), if any.</summary>
    public static string? FirstSymbolicLink(string path)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        foreach (string part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is not null)
            {
                return current;
            }
        }

        return null;
    }

    private static int Flags(FileMode mode, FileAccess access) =>
        (access switch { FileAccess.Read => Posix.ReadOnlyCloseOnExec, FileAccess.Write => Posix.WriteOnly, _ => Posix.ReadWrite }) |
        (mode switch
        {
            FileMode.Open => 0,
            FileMode.Create => Posix.Create | Posix.Truncate,
            FileMode.CreateNew => Posix.Create | Posix.Exclusive,
            FileMode.OpenOrCreate => Posix.Create,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Only Open, Create, CreateNew and OpenOrCreate are supported."),
        });
}
