using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class CoordinationCommandTests
{
    [Fact]
    public async Task Status_DirectoryWithoutACluster_SaysWhatToDoAndExitsTwo()
    {
        using var work = new TempDirectory();

        (int exit, string output) = await Secmig.RunAsync("status", "--work", work.Path);

        Assert.Equal(2, exit);
        Assert.Contains("holds no simulated cluster", output, StringComparison.Ordinal);
        Assert.Contains("secmig demo --work", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditVerify_EditedLog_NamesTheBrokenLineAndExitsOne()
    {
        using var work = new TempDirectory();
        (int created, string output) = await Secmig.RunAsync("simulate", "migrate", "--work", work.Path, "--image-mib", "1");
        Assert.True(created == 0, output);
        string log = Path.Combine(work.Path, "hosts", "source.demo", "audit.log");
        string[] lines = File.ReadAllLines(log);
        lines[2] = lines[2].Replace("PreHooksDone", "PreHooksD0ne", StringComparison.Ordinal);
        File.WriteAllLines(log, lines);

        (int exit, string verdict) = await Secmig.RunAsync("audit", "verify", log);

        Assert.Equal(1, exit);
        Assert.Contains("BROKEN: line 3 (host 'source.demo', after entry 2) was edited or forged", verdict, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimulateMigrate_BadHoldAt_ListsWhatIsAllowed()
    {
        using var work = new TempDirectory();

        (int exit, string output) = await Secmig.RunAsync("simulate", "migrate", "--work", work.Path, "--hold-at",
            "source.demo:Teleporting");

        Assert.Equal(2, exit);
        Assert.Contains("--hold-at is 'source.demo:Teleporting'", output, StringComparison.Ordinal);
        Assert.Contains("SwitchingOver", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimulateMigrate_PreMigrateHookVetoes_RollsBackWithTheHooksReason()
    {
        using var work = new TempDirectory();
        using var hooks = new TempDirectory();
        string hook = Path.Combine(hooks.Path, "pre-migrate", "10-maintenance");
        Directory.CreateDirectory(Path.GetDirectoryName(hook)!);
        File.WriteAllText(hook, "#!/bin/sh\n[ \"$SECMIG_ROLE\" = source ] && { echo \"VM $SECMIG_VM_ID is pinned during maintenance\" " +
            ">&2; exit 1; }\nexit 0\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        (int exit, string output) = await Secmig.RunAsync("simulate", "migrate", "--work", work.Path, "--image-mib", "1", "--hooks",
            hooks.Path);

        Assert.True(exit == 0, output);
        Assert.Contains("result source.demo RolledBack PreMigrate hook '10-maintenance' vetoed: exited with code 1: VM demo-vm is pinned " +
            "during maintenance", output, StringComparison.Ordinal);
        Assert.Contains("result destination.demo NeverStarted", output, StringComparison.Ordinal);
    }
}
