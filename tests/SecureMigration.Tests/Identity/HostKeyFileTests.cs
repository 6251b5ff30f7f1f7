using SecureMigration.Coordination.Journal;
using SecureMigration.Identity;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Identity;

/// <summary>The host's own key file (issue 14, hole 5): created once, owner-only, never through a symlink.</summary>
public sealed class HostKeyFileTests
{
    [Fact]
    public void LoadOrCreate_FirstAndLaterStarts_CreateAnOwnerOnlyFileAndReadTheSameKey()
    {
        using var directory = new TempDirectory();
        string path = directory.File("work/host.key");
        string journal = directory.File("work/journal.smj");
        using (HostKey created = HostKey.LoadOrCreate(path))
        using (MigrationJournal.Open(journal, created))
        {
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using HostKey loaded = HostKey.LoadOrCreate(path);
        using MigrationJournal reopened = MigrationJournal.Open(journal, loaded);
        Assert.Null(reopened.DroppedTail);
    }

    [Fact]
    public void LoadOrCreate_SymlinkPlantedWhereTheKeyGoes_IsRefusedAndTheTargetIsNotWritten()
    {
        using var directory = new TempDirectory();
        string target = directory.File("elsewhere");
        string path = directory.File("host.key");
        File.CreateSymbolicLink(path, target);

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() => HostKey.LoadOrCreate(path));

        Assert.Contains("symbolic link", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void LoadOrCreate_KeyReadableByOthers_IsRefusedWithTheChmodToRun()
    {
        using var directory = new TempDirectory();
        string path = directory.File("host.key");
        HostKey.LoadOrCreate(path).Dispose();
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() => HostKey.LoadOrCreate(path));

        Assert.Contains($"chmod 600 {path}", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Defense: a key another user planted (mode 0600, but theirs), as someone who can write the work directory but not
    /// read the real key would, to make the audit log verify under their key, is refused.
    /// </summary>
    [RequiresRootFact]
    public async Task LoadOrCreate_KeyOwnedByAnotherUser_IsRefusedNamingTheOwner()
    {
        using var directory = new TempDirectory();
        string path = directory.File("host.key");
        HostKey.LoadOrCreate(path).Dispose();
        await ProcessRunner.RunAsync("chown", ["65534", path], TimeSpan.FromSeconds(30));

        InvalidCredentialsException refused = Assert.Throws<InvalidCredentialsException>(() => HostKey.LoadOrCreate(path));

        Assert.Contains("belongs to user 65534", refused.Message, StringComparison.Ordinal);
    }
}
