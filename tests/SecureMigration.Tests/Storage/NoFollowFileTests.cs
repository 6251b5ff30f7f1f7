using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Storage;

// Runs alone: one test turns openat2 off for the whole process to exercise the fallback.
[Collection(nameof(RunsAloneCollection))]
public sealed class NoFollowFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Open_WithoutOpenAt2_StillRefusesASymbolicallyLinkedParent()
    {
        // Defense: the fallback for kernels without openat2 checks the path the kernel resolved (/proc/self/fd).
        File.WriteAllBytes(_dir.File("victim"), [1, 2, 3]);
        Directory.CreateSymbolicLink(_dir.File("shared"), _dir.Path);
        Posix.UseOpenAt2 = false;
        try
        {
            var refused = Assert.Throws<SymbolicLinkRefusedException>(() => NoFollowFile.Open(_dir.File("shared/victim"), FileMode.Open,
                FileAccess.ReadWrite));
            Assert.Equal(_dir.File("shared"), refused.Link);

            var last = Assert.Throws<SymbolicLinkRefusedException>(() => NoFollowFile.Open(_dir.File("shared"), FileMode.Open,
                FileAccess.Read));
            Assert.Equal(_dir.File("shared"), last.Link);

            using var direct = NoFollowFile.Open(_dir.File("victim"), FileMode.Open, FileAccess.ReadWrite);
            Assert.False(direct.IsInvalid);
        }
        finally
        {
            Posix.UseOpenAt2 = true;
        }
    }

    [Fact]
    public void Delete_EntryReplacedSinceItWasRecorded_KeepsIt()
    {
        // Defense: a delete removes the entry only while it is still the recorded file.
        File.WriteAllBytes(_dir.File("residue"), [1]);
        FileIdentity recorded = Posix.IdentityOf(_dir.File("residue"))!.Value;
        File.WriteAllBytes(_dir.File("other"), [2]);
        File.Move(_dir.File("other"), _dir.File("residue"), overwrite: true);

        var refused = Assert.Throws<FileReplacedException>(() => NoFollowFile.Delete(_dir.File("residue"), recorded));

        Assert.Equal(recorded, refused.Expected);
        Assert.Equal([2], File.ReadAllBytes(_dir.File("residue")));
    }

    [Fact]
    public void Delete_ThroughASymbolicallyLinkedDirectory_IsRefusedAndTheFileStays()
    {
        // Defense: a delete opens the file's directory without following symbolic links.
        Directory.CreateDirectory(_dir.File("real"));
        File.WriteAllBytes(_dir.File("real/precious"), [7]);
        Directory.CreateSymbolicLink(_dir.File("shared"), _dir.File("real"));

        Assert.Throws<SymbolicLinkRefusedException>(() => NoFollowFile.Delete(_dir.File("shared/precious"), null));

        Assert.True(File.Exists(_dir.File("real/precious")));
    }
}
