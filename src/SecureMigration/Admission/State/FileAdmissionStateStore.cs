namespace SecureMigration.Admission;

/// <summary>
/// Keeps the admission state in one file, replaced atomically: the new state is written to a temporary file in
/// the same directory, flushed to disk, then renamed over the old one.
/// </summary>
public sealed class FileAdmissionStateStore : IAdmissionStateStore
{
    private const long MaxStateBytes = 256L * 1024 * 1024;

    /// <summary>Creates a store for <paramref name="path"/>; its directory is created on the first save.</summary>
    /// <param name="path">The state file.</param>
    public FileAdmissionStateStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>Gets the state file's full path.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public async ValueTask SaveAsync(ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default)
    {
        string directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        string temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await file.WriteAsync(state, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <inheritdoc />
    public async ValueTask<byte[]?> LoadAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path))
        {
            return null;
        }

        long length = new FileInfo(Path).Length;
        if (length > MaxStateBytes)
        {
            throw new InvalidDataException($"The admission state file '{Path}' is {length} bytes, more than the {MaxStateBytes} a state can be; it is not trusted.");
        }

        return await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
    }
}
