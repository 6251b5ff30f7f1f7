using System.IO.MemoryMappedFiles;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A file mapped into this process's memory (it shows in <c>/proc/self/maps</c>), as QEMU maps a RAM file.</summary>
internal sealed class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;

    private MappedFile(MemoryMappedFile mapping, MemoryMappedViewAccessor view)
    {
        _mapping = mapping;
        _view = view;
    }

    public static MappedFile Map(string path)
    {
        var mapping = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        return new MappedFile(mapping, mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read));
    }

    public void Dispose()
    {
        _view.Dispose();
        _mapping.Dispose();
    }
}
