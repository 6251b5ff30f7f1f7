using Microsoft.Win32.SafeHandles;
using SecureMigration.Storage;
using SecureMigration.Text;
using SecureMigration.Threading;

namespace SecureMigration.Coordination.Snapshots;

/// <summary>
/// Snapshots file images into <c>DIRECTORY/MIGRATION-ID/</c>: a reflink (copy-on-write clone, instant on btrfs and
/// XFS) where the file system allows it, a full copy elsewhere; flushed to disk either way.
/// </summary>
public sealed class FileSnapshotProvider : ISnapshotProvider
{
    /// <summary>Creates a provider that keeps snapshots in <paramref name="directory"/>.</summary>
    /// <param name="directory">The snapshot directory.</param>
    public FileSnapshotProvider(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>Gets the snapshot directory.</summary>
    public string Directory { get; }

    /// <summary>Gets how the last snapshot was taken: <c>reflink</c> or <c>copy</c>.</summary>
    public string? LastMethod { get; private set; }

    /// <inheritdoc />
    public async ValueTask<string> TakeAsync(Guid migrationId, string vmId, IReadOnlyList<string> images,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        VmIds.EnsureValid(vmId);
        await ThreadPoolHop.IfNeeded();
        string location = Path.Combine(Directory, migrationId.ToString("N"));
        System.IO.Directory.CreateDirectory(location);
        bool cloned = true;
        foreach (string image in images)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string target = Path.Combine(location, Path.GetFileName(image));
            cloned &= await CloneOrCopyAsync(image, target, cancellationToken).ConfigureAwait(false);
        }

        DurableFile.FlushDirectory(location);
        DurableFile.FlushDirectory(Directory);
        LastMethod = cloned ? "reflink" : "copy";
        return location;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ReleaseAsync(string location, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        string full = Path.GetFullPath(location);
        if (!string.Equals(Path.GetDirectoryName(full), Directory, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The snapshot '{location}' is not one of this provider's (under '{Directory}').",
                nameof(location));
        }

        return ValueTask.FromResult<IReadOnlyList<string>>(System.IO.Directory.Exists(full) ? [full] : []);
    }

    private static async ValueTask<bool> CloneOrCopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        // The snapshot is created (or truncated) without following a symbolic link: one planted under the snapshot
        // directory cannot make the copy overwrite another file.
        using SafeFileHandle from = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        using SafeFileHandle to = NoFollowFile.Open(target, FileMode.Create, FileAccess.Write);
        if (Posix.IsSupported && Posix.Ioctl((int)to.DangerousGetHandle(), Posix.Ficlone, (int)from.DangerousGetHandle()) == 0)
        {
            RandomAccess.FlushToDisk(to);
            return true;
        }

        var input = new FileStream(from, FileAccess.Read, 1 << 20);
        await using (input.ConfigureAwait(false))
        {
            var output = new FileStream(to, FileAccess.Write, 1 << 20);
            await using (output.ConfigureAwait(false))
            {
                await input.CopyToAsync(output, 1 << 20, cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
        }

        return false;
    }
}
