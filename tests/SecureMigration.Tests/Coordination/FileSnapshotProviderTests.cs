using SecureMigration.Coordination.Snapshots;
using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class FileSnapshotProviderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task TakeAsync_ThenRelease_KeepsAnExactCopyUntilReleasedAndHandsItToResidue()
    {
        byte[] image = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);
        File.WriteAllBytes(_dir.File("vm-1.img"), image);
        var provider = new FileSnapshotProvider(_dir.File("snapshots"));
        var migration = Guid.NewGuid();

        string location = await provider.TakeAsync(migration, "vm-1", [_dir.File("vm-1.img")]);
        File.WriteAllBytes(_dir.File("vm-1.img"), new byte[10]);
        IReadOnlyList<string> residue = await provider.ReleaseAsync(location);

        Assert.Equal(image, File.ReadAllBytes(Path.Combine(location, "vm-1.img")));
        Assert.Contains(provider.LastMethod, new[] { "reflink", "copy" });
        Assert.Equal([location], residue);
    }

    [Fact]
    public async Task TakeAsync_SymbolicLinkPlantedWhereTheSnapshotGoes_IsRefusedAndItsTargetSurvives()
    {
        // Defense: the snapshot is created and truncated without following a symbolic link.
        File.WriteAllBytes(_dir.File("vm-1.img"), new byte[4096]);
        byte[] precious = System.Security.Cryptography.RandomNumberGenerator.GetBytes(8192);
        File.WriteAllBytes(_dir.File("precious.db"), precious);
        var provider = new FileSnapshotProvider(_dir.File("snapshots"));
        var migration = Guid.NewGuid();
        string planted = Path.Combine(Directory.CreateDirectory(Path.Combine(provider.Directory, migration.ToString("N"))).FullName,
            "vm-1.img");
        File.CreateSymbolicLink(planted, _dir.File("precious.db"));

        var refused = await Assert.ThrowsAsync<SymbolicLinkRefusedException>(() => provider.TakeAsync(migration, "vm-1",
            [_dir.File("vm-1.img")]).AsTask());

        Assert.Equal(planted, refused.Link);
        Assert.Equal(precious, File.ReadAllBytes(_dir.File("precious.db")));
    }

    [Fact]
    public async Task ReleaseAsync_LocationOutsideTheProvider_IsRefused()
    {
        var provider = new FileSnapshotProvider(_dir.File("snapshots"));

        await Assert.ThrowsAsync<ArgumentException>(async () => await provider.ReleaseAsync("/etc"));
    }
}
