using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Storage;

public sealed class DurableFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task WriteAtomicallyAsync_ExistingFile_IsReplacedWholeAndNoTemporaryFileStays()
    {
        string path = Path.Combine(_dir.Path, "nested", "state");
        await DurableFile.WriteAtomicallyAsync(path, "old state, longer than the new one"u8.ToArray());

        await DurableFile.WriteAtomicallyAsync(path, "new"u8.ToArray());

        Assert.Equal("new", await File.ReadAllTextAsync(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public async Task WriteAtomicallyAsync_OwnerOnly_CreatesTheFileReadableByItsOwnerAlone()
    {
        string path = _dir.File("secret");

        await DurableFile.WriteAtomicallyAsync(path, "key"u8.ToArray(), ownerOnly: true);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task WriteAtomicallyAsync_Cancelled_LeavesTheOldFileAndNoTemporaryFile()
    {
        string path = _dir.File("state");
        await DurableFile.WriteAtomicallyAsync(path, "old"u8.ToArray());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DurableFile.WriteAtomicallyAsync(path, "new"u8.ToArray(),
            new CancellationToken(canceled: true)).AsTask());

        Assert.Equal("old", await File.ReadAllTextAsync(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }
}
