using System.Runtime.InteropServices;

namespace SecureMigration.Storage;

/// <summary>
/// An exclusive advisory lock on a file, held across processes and threads (<c>flock</c> on a descriptor of its own,
/// opened outside .NET's file-sharing emulation); released on dispose or when the process dies, so a crash never
/// leaves it held. Where the OS has no <c>flock</c>, only threads of this process are excluded.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private static readonly SemaphoreSlim InProcess = new(1, 1);
    private readonly int _descriptor;

    private FileLock(int descriptor) => _descriptor = descriptor;

    /// <summary>Waits for the lock on <paramref name="path"/> (created if missing).</summary>
    public static async Task<FileLock> AcquireAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!Posix.IsSupported)
        {
            await InProcess.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new FileLock(-1);
        }

        int descriptor = Posix.Open(path, Posix.ReadWriteCreate, Convert.ToInt32("600", 8));
        if (descriptor < 0)
        {
            throw new IOException($"The lock file '{path}' could not be opened (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            await Task.Run(
                () =>
                {
                    if (Posix.Flock(descriptor, Posix.LockExclusive) != 0)
                    {
                        throw new IOException($"The lock file '{path}' could not be locked (errno {Marshal.GetLastPInvokeError()}).");
                    }
                },
                cancellationToken).ConfigureAwait(false);
            return new FileLock(descriptor);
        }
        catch
        {
            _ = Posix.Close(descriptor);
            throw;
        }
    }

    /// <summary>Takes the lock on <paramref name="path"/> (created if missing) unless someone holds it; never waits.</summary>
    public static FileLock? TryAcquire(string path)
    {
        if (!Posix.IsSupported)
        {
            return InProcess.Wait(0) ? new FileLock(-1) : null;
        }

        int descriptor = Posix.Open(path, Posix.ReadWriteCreate, Convert.ToInt32("600", 8));
        if (descriptor < 0)
        {
            throw new IOException($"The lock file '{path}' could not be opened (errno {Marshal.GetLastPInvokeError()}).");
        }

        if (Posix.Flock(descriptor, Posix.LockExclusive | Posix.LockNonBlocking) != 0)
        {
            _ = Posix.Close(descriptor);
            return null;
        }

        return new FileLock(descriptor);
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose()
    {
        if (_descriptor < 0)
        {
            InProcess.Release();
            return;
        }

        // Unlocked before the close: a child being started meanwhile holds a copy of the descriptor until its exec.
        _ = Posix.Flock(_descriptor, Posix.LockRelease);
        _ = Posix.Close(_descriptor);
    }
}
