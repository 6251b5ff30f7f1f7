using SecureMigration.Sanitization;
using SecureMigration.Storage;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Sanitization;

/// <summary>Where checkpoints go: beside a file; a block device's in a state directory, by device number, never through a link.</summary>
public sealed class WipeCheckpointLocationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AFile_KeepsItsCheckpointBesideIt_AndNoStateDirectoryIsMade()
    {
        string state = _dir.File("state");

        Assert.Equal(_dir.File("vm.img") + ".secmig-wipe", WipeCheckpointLocation.For(_dir.File("vm.img"), null, state, keep: true));
        Assert.False(Directory.Exists(state));
    }

    [Fact]
    public void TwoDevices_NeverShareACheckpoint_AndTheDirectoryIsMadeOwnerOnly()
    {
        string state = _dir.File("state");

        string first = WipeCheckpointLocation.For("/dev/loop1", "7:1", state, keep: true);
        string second = WipeCheckpointLocation.For("/dev/loop11", "7:11", state, keep: true);

        Assert.Equal(Path.Combine(state, "block-7-1.secmig-wipe"), first);
        Assert.Equal(Path.Combine(state, "block-7-11.secmig-wipe"), second);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state));
    }

    [Fact]
    public void AStateDirectoryThroughASymbolicLink_IsRefused()
    {
        Directory.CreateDirectory(_dir.File("real"));
        string link = _dir.File("link");
        File.CreateSymbolicLink(link, _dir.File("real"));

        Assert.Throws<SymbolicLinkRefusedException>(() => WipeCheckpointLocation.For("/dev/loop1", "7:1", Path.Combine(link, "wipe"),
            keep: true));
        Assert.False(Directory.Exists(_dir.File("real/wipe")));
    }

    [Fact]
    public void AStateDirectoryOthersMayWrite_IsRefused()
    {
        string state = _dir.File("shared");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupWrite |
            UnixFileMode.GroupExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.OtherExecute |
            UnixFileMode.OtherWrite);

        var refused = Assert.Throws<ArgumentException>(() => WipeCheckpointLocation.For("/dev/loop1", "7:1", state, keep: true));

        Assert.Contains("writable by its group or by others", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWipeThatKeepsNoCheckpoints_NeitherMakesNorChecksTheStateDirectory()
    {
        Directory.CreateDirectory(_dir.File("real"));
        string link = _dir.File("link");
        File.CreateSymbolicLink(link, _dir.File("real"));

        Assert.Equal(Path.Combine(link, "wipe", "block-7-1.secmig-wipe"),
            WipeCheckpointLocation.For("/dev/loop1", "7:1", Path.Combine(link, "wipe"), keep: false));
        Assert.False(Directory.Exists(_dir.File("real/wipe")));
    }

    [Fact]
    public void AnEmptyStateDirectoryOption_IsRefusedByValidate()
    {
        var refused = Assert.Throws<ArgumentException>(() => new SanitizerOptions { CheckpointDirectory = " " }.Validate());

        Assert.Contains("CheckpointDirectory", refused.Message, StringComparison.Ordinal);
    }
}
