using System.Text;
using SecureMigration.Storage;

namespace SecureMigration.Qemu;

/// <summary>
/// The RAM files the driver learned for one VM, kept durably in the driver's private runtime directory: a QEMU that
/// exits while the agent is down (it does when its incoming stream breaks) can no longer be asked, yet its RAM file is
/// residue that recovery must sanitize. One absolute path per line; a line that is not an absolute path is ignored.
/// </summary>
internal sealed class QemuMemoryFileManifest(string path)
{
    /// <summary>Reads the files recorded so far (none when the manifest does not exist).</summary>
    public IReadOnlyList<string> Load()
    {
        try
        {
            return [.. File.ReadAllLines(path).Where(line => line.Length > 0 && Path.IsPathFullyQualified(line)).Select(Path.GetFullPath)];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
    }

    /// <summary>Records <paramref name="files"/> durably and atomically: a crash or a power cut leaves the old list or the new one.</summary>
    public ValueTask SaveAsync(IReadOnlyList<string> files, CancellationToken cancellationToken) =>
        DurableFile.WriteAtomicallyAsync(path, Encoding.UTF8.GetBytes(string.Concat(files.Select(file => file + "\n"))), cancellationToken, ownerOnly: true);
}
