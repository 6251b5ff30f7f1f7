using SecureMigration.Coordination.Residues;
using SecureMigration.Sanitization;
using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class SanitizingResidueHandlerTests
{
    [Fact]
    public async Task HandleAsync_ImageAndSnapshotDirectory_OverwritesThenDeletesThem()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("vm-1.img"), new byte[100_000]);
        Directory.CreateDirectory(dir.File("snap"));
        File.WriteAllBytes(dir.File("snap/vm-1.img"), new byte[50_000]);
        var handler = new SanitizingResidueHandler(new BlockSanitizer());

        ResidueOutcome image = await handler.HandleAsync(new Residue(Guid.NewGuid(), "vm-1", ResidueKind.SourceImage,
            dir.File("vm-1.img")));
        ResidueOutcome snapshot = await handler.HandleAsync(new Residue(Guid.NewGuid(), "vm-1", ResidueKind.Snapshot, dir.File("snap")));
        ResidueOutcome again = await handler.HandleAsync(new Residue(Guid.NewGuid(), "vm-1", ResidueKind.Snapshot, dir.File("snap")));

        Assert.Equal(("sanitized", 100_000L), (image.Action, image.Bytes));
        Assert.Equal(("sanitized", 50_000L), (snapshot.Action, snapshot.Bytes));
        Assert.StartsWith("NistClear, verified", image.Detail, StringComparison.Ordinal);
        Assert.Equal("already-gone", again.Action);
        Assert.False(File.Exists(dir.File("vm-1.img")));
        Assert.False(Directory.Exists(dir.File("snap")));
    }

    [Fact]
    public async Task HandleAsync_SymbolicLinkPlantedInASnapshotDirectory_IsRefusedAndItsTargetSurvives()
    {
        // Defense: residue is wiped and deleted without following symbolic links.
        using var dir = new TempDirectory();
        byte[] precious = System.Security.Cryptography.RandomNumberGenerator.GetBytes(20_000);
        File.WriteAllBytes(dir.File("precious.db"), precious);
        Directory.CreateDirectory(dir.File("snap"));
        File.CreateSymbolicLink(dir.File("snap/vm-1.img"), dir.File("precious.db"));
        var handler = new SanitizingResidueHandler(new BlockSanitizer());

        await Assert.ThrowsAsync<SymbolicLinkRefusedException>(() => handler.HandleAsync(new Residue(Guid.NewGuid(), "vm-1",
            ResidueKind.Snapshot, dir.File("snap"))).AsTask());

        Assert.Equal(precious, File.ReadAllBytes(dir.File("precious.db")));
    }
}
