using System.Runtime.InteropServices;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>
/// Copies (<c>dup</c>) of every descriptor this process has open on a file, as a child that another thread is starting holds
/// them between its <c>fork</c> and its <c>exec</c>: the same open file descriptions, so the same <c>flock</c> locks. Closed
/// on dispose.
/// </summary>
public sealed class ForkedDescriptors : IDisposable
{
    private readonly List<int> _copies = [];

    /// <summary>Copies the descriptors open on <paramref name="path"/> now.</summary>
    public ForkedDescriptors(string path)
    {
        foreach (string link in Directory.GetFiles("/proc/self/fd"))
        {
            if (new FileInfo(link).LinkTarget == path && int.TryParse(Path.GetFileName(link), out int descriptor) &&
                Dup(descriptor) is var copy and >= 0)
            {
                _copies.Add(copy);
            }
        }
    }

    /// <summary>Gets how many descriptors were copied.</summary>
    public int Count => _copies.Count;

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (int copy in _copies)
        {
            _ = Close(copy);
        }

        _copies.Clear();
    }

    // A classic import: LibraryImport would need unsafe code in the test project.
    [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Dup(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int descriptor);
}
