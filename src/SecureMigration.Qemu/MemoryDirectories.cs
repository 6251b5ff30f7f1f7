using System.Runtime.InteropServices;

namespace SecureMigration.Qemu;

/// <summary>
/// The directories the operator allows QEMU's file-backed RAM (<c>memory-backend-file</c>'s <c>mem-path</c>) to live
/// in. QEMU's answers are not trusted (a guest that escaped into its QEMU chooses them), and a RAM file becomes
/// residue that is overwritten and deleted, so a reported path is admitted only when its real path (every <c>..</c>
/// and symbolic link resolved) lies inside the real path of an allowed directory.
/// </summary>
internal sealed partial class MemoryDirectories(IEnumerable<string> directories)
{
    private readonly string[] _directories = [.. directories.Select(Path.GetFullPath)];

    /// <summary>Gets the allowed directories, for messages.</summary>
    public string Describe() => _directories.Length == 0 ? "none configured" : string.Join(", ", _directories);

    /// <summary>Returns the real path of <paramref name="file"/> when it lies inside an allowed directory, else
    /// <see langword="null"/>.</summary>
    public string? Admit(string file)
    {
        if (!Path.IsPathFullyQualified(file) || RealPath(file) is not { } real)
        {
            return null;
        }

        foreach (string directory in _directories)
        {
            if (RealPath(directory) is { } root &&
                real.StartsWith(Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return real;
            }
        }

        return null;
    }

    /// <summary>The canonical path (<c>realpath(3)</c>), or <see langword="null"/> when it does not exist or cannot be resolved.</summary>
    private static string? RealPath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.GetFullPath(path);
        }

        IntPtr resolved = Resolve(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            // realpath allocated it with malloc; FreeHGlobal is free() on Unix.
            Marshal.FreeHGlobal(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr Resolve(string path, IntPtr buffer);
}
