using Microsoft.Extensions.Time.Testing;
using SecureMigration.Coordination.Hooks;
using SecureMigration.Coordination.Phases;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Coordination;

public sealed class ExecutableHookTests : IDisposable
{
    private static readonly MigrationHookContext Context = new(Guid.Parse("7d7f1c1e-0000-4000-8000-000000000001"), "vm-1",
        MigrationRole.Destination, HookStage.PreMigrate, "host-a", "host-b", 41);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunAsync_ExitZero_AllowsAndSeesTheMigrationsFacts()
    {
        string facts = _dir.File("facts.txt");
        string hook = Script("pre-migrate/10-record",
            $"env | grep -E '^SECMIG_(MIGRATION_ID|VM_ID|ROLE|STAGE|SOURCE_HOST|DESTINATION_HOST|EPOCH)=' | sort > '{facts}'\nexit 0");

        HookVerdict verdict = await new ExecutableHook(hook).RunAsync(Context, CancellationToken.None);

        Assert.True(verdict.Allowed);
        Assert.Equal(
            ["SECMIG_DESTINATION_HOST=host-b", "SECMIG_EPOCH=41", "SECMIG_MIGRATION_ID=7d7f1c1e-0000-4000-8000-000000000001",
                "SECMIG_ROLE=destination",
             "SECMIG_SOURCE_HOST=host-a", "SECMIG_STAGE=pre-migrate", "SECMIG_VM_ID=vm-1"],
            File.ReadAllLines(facts));
    }

    [Fact]
    public async Task RunAsync_NonZeroExit_VetoesWithTheLastLineOfStandardError()
    {
        string hook = Script("pre-migrate/20-check", "echo 'checking quota' >&2\necho 'destination quota exceeded' >&2\nexit 3");

        HookVerdict verdict = await new ExecutableHook(hook).RunAsync(Context, CancellationToken.None);

        Assert.False(verdict.Allowed);
        Assert.Equal("exited with code 3: destination quota exceeded", verdict.Reason);
    }

    [Fact]
    public async Task HookRunner_ProgramThatHangs_IsKilledAtItsTimeoutAndCountsAsAVeto()
    {
        string started = _dir.File("started");
        string hook = Script("pre-migrate/30-hang", $"touch '{started}'\nexec sleep 600");
        var time = new FakeTimeProvider();
        var runner = new HookRunner([new ExecutableHook(hook)], TimeSpan.FromSeconds(5), time);

        Task<string?> running = runner.RunAsync(Context, CancellationToken.None).AsTask();
        while (!File.Exists(started))
        {
            await Task.Yield();
        }

        time.Advance(TimeSpan.FromSeconds(6));
        string? veto = await running;

        Assert.Equal("PreMigrate hook '30-hang' did not answer within 5 s", veto);
    }

    [Fact]
    public void InDirectory_ListsOnlyExecutablesOfTheStageInNameOrder()
    {
        Script("pre-migrate/20-second", "exit 0");
        Script("pre-migrate/10-first", "exit 0");
        Script("post-migrate/10-other-stage", "exit 0");
        File.WriteAllText(_dir.File("pre-migrate/README"), "not executable");

        IReadOnlyList<ExecutableHook> hooks = ExecutableHook.InDirectory(_dir.Path, HookStage.PreMigrate);

        Assert.Equal(["10-first", "20-second"], hooks.Select(h => h.Name));
        Assert.Empty(ExecutableHook.InDirectory(_dir.File("missing"), HookStage.PreMigrate));
    }

    [Fact]
    public async Task HookDirectory_Reload_FindsHooksAddedSince_AndEachRunsAsAHookOfItsOwn()
    {
        var directory = new ExecutableHookDirectory(_dir.Path, HookStage.PreMigrate);
        var runner = new HookRunner([directory], TimeSpan.FromMinutes(1), TimeProvider.System);
        string? before = await runner.RunAsync(Context, CancellationToken.None);
        Script("pre-migrate/40-maintenance", "echo 'host in maintenance' >&2\nexit 1");

        string? stale = await runner.RunAsync(Context, CancellationToken.None);
        IReadOnlyList<ExecutableHook> reloaded = directory.Reload();
        string? after = await runner.RunAsync(Context, CancellationToken.None);

        Assert.Null(before);
        Assert.Null(stale);
        Assert.Equal(["40-maintenance"], reloaded.Select(hook => hook.Name));
        Assert.Equal("PreMigrate hook '40-maintenance' vetoed: exited with code 1: host in maintenance", after);
    }

    private string Script(string relative, string body)
    {
        string path = _dir.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
