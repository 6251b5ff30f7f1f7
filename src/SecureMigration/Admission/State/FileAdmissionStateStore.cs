using SecureMigration.Storage;

namespace SecureMigration.Admission.State;

/// <summary>
/// Keeps the admission state in one file, replaced atomically: the new state is written to a temporary file in
/// the same directory, flushed to disk, then renamed over the old one, and the directory is flushed.
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
    public ValueTask SaveAsync(ReadOnlyMemory<byte> state, CancellationToken cancellationToken = default) =>
        DurableFile.WriteAtomicallyAsync(Path, state, cancellationToken);

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
            throw new InvalidDataException($"The admission state file '{Path}' is {length} bytes, more than the {MaxStateBytes} a state " +
                $"can be; it is not trusted.");
        }

        return await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
    }
}
