using SecureMigration.Storage;

namespace SecureMigration;

/// <summary>
/// One process's exclusive hold on a host's state directory (journal, audit log, admission state): two processes that
/// wrote them at once would break the journal's and the audit log's MAC chains, and one would overwrite the other's
/// admission state. An advisory lock on <c>.lock</c> in the directory, released on dispose or when the process dies.
/// </summary>
internal sealed class HostStateLock : IDisposable
{
    private readonly FileLock _lock;

    private HostStateLock(FileLock held) => _lock = held;

    /// <summary>Takes the lock on <paramref name="directory"/> (which must exist) unless another process holds it.</summary>
    /// <param name="directory">The host's state directory.</param>
    /// <returns>The held lock, or <see langword="null"/> when another process (or another hold in this one) has it.</returns>
    /// <exception cref="IOException">The lock file cannot be opened (for example the directory is missing or read-only).</exception>
    public static HostStateLock? TryAcquire(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return FileLock.TryAcquire(Path.Combine(directory, ".lock")) is { } held ? new HostStateLock(held) : null;
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();
}
