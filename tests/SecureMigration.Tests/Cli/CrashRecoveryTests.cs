using System.Globalization;
using System.Text.Json;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>
/// Real crashes: secmig runs a migration of the simulated cluster in a child process and is killed with SIGKILL at a
/// phase boundary or inside the transfer; 'secmig recover' then runs on what it left on disk.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    public static TheoryData<string> Boundaries() =>
    [
        "source.demo:Admitted", "source.demo:Snapshotted", "source.demo:PreHooksDone", "source.demo:ChannelOpen",
            "source.demo:Transferring",
        "source.demo:SwitchingOver", "source.demo:Committed", "source.demo:Cleaned",
        "destination.demo:ChannelOpen", "destination.demo:Admitted", "destination.demo:PreHooksDone", "destination.demo:Transferring",
        "destination.demo:SwitchingOver", "destination.demo:Committed", "destination.demo:Cleaned",
    ];

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task Recover_AfterSigkillAtAPhaseBoundary_LeavesExactlyOneRunnableCopy(string boundary)
    {
        await using (ExternalProcess migration = Secmig.Start("simulate", "migrate", "--work", _work.Path, "--hold-at", boundary))
        {
            await migration.WaitForAsync("holding " + boundary.Replace(':', ' '));
            await migration.KillAsync();
        }

        await RecoverAndCheckAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6_000_000)]
    [InlineData(15_000_000)]
    public async Task Recover_AfterSigkillInsideTheTransfer_LeavesExactlyOneRunnableCopy(long bytes)
    {
        // The source holds once it sent that much, so the kill lands inside the transfer however fast the machine is.
        await using (ExternalProcess migration = Secmig.Start("simulate", "migrate", "--work", _work.Path, "--hold-after-bytes",
            bytes.ToString(CultureInfo.InvariantCulture)))
        {
            string held = await migration.WaitForAsync("holding source.demo ");
            Assert.True(long.Parse(held[..held.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture) >= bytes,
                migration.Output);
            await migration.KillAsync();
        }

        await RecoverAndCheckAsync();
    }

    private async Task RecoverAndCheckAsync()
    {
        (int recovered, string recovery) = await Secmig.RunAsync("recover", "--work", _work.Path);
        Assert.True(recovered == 0, recovery);
        // The kill landed before the migration ended: recovery had an interrupted migration to finish.
        Assert.Contains(": migration ", recovery, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing to recover", recovery, StringComparison.Ordinal);
        (int again, string second) = await Secmig.RunAsync("recover", "--work", _work.Path);
        Assert.Equal(0, again);
        Assert.Contains("Nothing to recover", second, StringComparison.Ordinal);

        (int exit, string json) = await Secmig.RunAsync("status", "--work", _work.Path, "--json");
        Assert.True(exit == 0, json);
        JsonElement vm = Assert.Single(JsonDocument.Parse(json).RootElement.EnumerateArray());
        string owner = vm.GetProperty("owner").GetString()!;
        JsonElement[] runnable = [.. vm.GetProperty("copies").EnumerateArray().Where(c => c.GetProperty("runnable").GetBoolean())];
        Assert.Equal(owner, Assert.Single(runnable).GetProperty("host").GetString());
        Assert.Equal("Running", runnable[0].GetProperty("state").GetString());
        Assert.Empty(vm.GetProperty("residue").EnumerateArray());
        Assert.All(vm.GetProperty("migrations").EnumerateArray(), m => Assert.Contains(m.GetProperty("phase").GetString(),
            new[] { "Completed", "RolledBack" }));
        if (owner == "destination.demo")
        {
            Assert.Equal(FrozenHash("source.demo"), FrozenHash("destination.demo"));
        }

        string[] logs = [.. Directory.EnumerateFiles(Path.Combine(_work.Path, "hosts"), "audit.log", SearchOption.AllDirectories)];
        (int audit, string auditOutput) = await Secmig.RunAsync(["audit", "verify", .. logs]);
        Assert.True(audit == 0, auditOutput);
    }

    private string? FrozenHash(string host) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(_work.Path, "hosts", host, "vms",
            "demo-vm.state"))).RootElement.GetProperty("ImageSha256").GetString();

}
