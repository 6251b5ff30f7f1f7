using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SecureMigration.Storage;

/// <summary>
/// An exclusive advisory lock on a file, held across processes (<c>flock</c>); released on dispose or when the process
/// dies, so a crash never leaves it held.
/// </summary>
internal sealed partial class FileLock : IDisposable
{
    private const int LockExclusive = 2;
    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Waits for the lock on <paramref name="path"/> (created if missing) on a pool thread.</summary>
    public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken = default)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            if (OperatingSystem.IsWindows())
            {
                return new FileLock(handle);
            }

            await Task.Run(
                () =>
                {
                    if (Flock((int)handle.DangerousGetHandle(), LockExclusive) != 0)
                    {
                        throw new IOException($"The lock file '{path}' could not be locked (errno {Marshal.GetLastPInvokeError()}).");
                    }
                },
                cancellationToken).ConfigureAwait(false);
            return new FileLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int descriptor, int operation);
}
