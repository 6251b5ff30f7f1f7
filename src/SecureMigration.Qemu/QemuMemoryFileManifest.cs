using System.Text;
using SecureMigration.Storage;

namespace SecureMigration.Qemu;

/// <summary>
/// The RAM files the driver learned for one VM, kept durably in the driver's private runtime directory: a QEMU that
/// exits while the agent is down (it does when its incoming stream breaks) can no longer be asked, yet its RAM file is
/// residue that recovery must sanitize. One file per line, <c>MAJOR:MINOR/INODE PATH</c>; a line that is not an identity
/// and an absolute path is ignored.
/// </summary>
internal sealed class QemuMemoryFileManifest(string path)
{
    /// <summary>Reads the files recorded so far (none when the manifest does not exist).</summary>
    public IReadOnlyList<MemoryFile> Load()
    {
        try
        {
            var files = new List<MemoryFile>();
            foreach (string line in File.ReadLines(path))
            {
                int space = line.IndexOf(' ');
                if (space > 0 && FileIdentity.TryParse(line.AsSpan(0, space), out FileIdentity identity) &&
                    Path.IsPathFullyQualified(line[(space + 1)..]))
                {
                    files.Add(new MemoryFile(Path.GetFullPath(line[(space + 1)..]), identity));
                }
            }

            return files;
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    /// <summary>Records <paramref name="files"/> durably and atomically: a crash or a power cut leaves the old list or the new
    /// one.</summary>
    public ValueTask SaveAsync(IReadOnlyList<MemoryFile> files, CancellationToken cancellationToken) =>
        DurableFile.WriteAtomicallyAsync(path, Encoding.UTF8.GetBytes(string.Concat(files.Select(file => $"{file.Identity} " +
            $"{file.Path}\n"))), cancellationToken,
            ownerOnly: true);
}
