using System.Runtime.InteropServices;
using SecureMigration.Threading;

namespace SecureMigration.Storage;

/// <summary>
/// Writes that survive a power cut: a file replaced atomically (temporary file, flushed, renamed, directory
/// flushed), and the directory entry of a new file flushed so the file itself cannot vanish. The library keeps its
/// journal, registry and checkpoints this way; a hypervisor driver can keep its own state the same way.
/// </summary>
internal static class DurableFile
{
    /// <summary>Replaces <paramref name="path"/> with <paramref name="contents"/>: a reader sees the old file or the new one, never a
    /// mix.</summary>
    /// <param name="path">The file; its directory is created when missing.</param>
    /// <param name="contents">The file's new contents.</param>
    /// <param name="cancellationToken">Stops the write before the rename; the old file then stays.</param>
    /// <param name="ownerOnly">Creates the file readable and writable by its owner only (mode 0600), for secrets.</param>
    /// <returns>A task that completes once the new file and its directory entry are on disk.</returns>
    /// <exception cref="IOException">The file or its directory could not be written or flushed.</exception>
    public static async ValueTask WriteAtomicallyAsync(string path, ReadOnlyMemory<byte> contents,
        CancellationToken cancellationToken = default, bool ownerOnly = false)
    {
        await ThreadPoolHop.IfNeeded();
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None,
                Options = FileOptions.Asynchronous };
            if (ownerOnly && !OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            var file = new FileStream(temporary, options);
            await using (file.ConfigureAwait(false))
            {
                await file.WriteAsync(contents, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            FlushDirectory(directory);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Flushes a directory's entries (new, renamed or deleted files) to disk; a no-op where the OS has no such call.</summary>
    /// <param name="directory">The directory.</param>
    /// <exception cref="IOException">The directory could not be opened or flushed.</exception>
    public static void FlushDirectory(string directory)
    {
        if (!Posix.IsSupported)
        {
            return;
        }

        int descriptor = Posix.Open(directory, Posix.ReadOnly, 0);
        if (descriptor < 0)
        {
            throw new IOException($"The directory '{directory}' could not be opened to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Posix.Fsync(descriptor) != 0)
            {
                throw new IOException($"The directory '{directory}' could not be flushed to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Posix.Close(descriptor);
        }
    }
}
