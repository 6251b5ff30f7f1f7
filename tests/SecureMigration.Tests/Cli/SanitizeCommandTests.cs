using System.Security.Cryptography;
using System.Text.Json;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class SanitizeCommandTests
{
    [Fact]
    public async Task Sanitize_DodWithJson_OverwritesVerifiesAndReports()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("old.img"), RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 7));

        (int exit, string output) = await Secmig.RunAsync("sanitize", dir.File("old.img"), "--method", "dod", "--json");

        Assert.True(exit == 0, output);
        // Progress goes to standard error, which the runner appends after the JSON on standard output.
        int start = output.IndexOf('{', StringComparison.Ordinal);
        JsonElement report = JsonDocument.Parse(output[start..(output.IndexOf("\n}", start, StringComparison.Ordinal) + 2)]).RootElement;
        Assert.True(report.GetProperty("succeeded").GetBoolean());
        Assert.Equal("Full", report.GetProperty("verification").GetString());
        Assert.Equal(["0x00", "0xFF", "random"], report.GetProperty("passes").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(2 * 1024 * 1024 + 7, report.GetProperty("bytesVerified").GetInt64());
    }

    [Fact]
    public async Task Sanitize_ExtentsFile_OverwritesOnlyThoseBytes()
    {
        using var dir = new TempDirectory();
        byte[] old = RandomNumberGenerator.GetBytes(100_000);
        File.WriteAllBytes(dir.File("disk.img"), old);
        File.WriteAllText(dir.File("freed.txt"), "# freed blocks\n4096 8192\n0x10000,100\n");

        (int exit, string output) = await Secmig.RunAsync("sanitize", dir.File("disk.img"), "--extents", dir.File("freed.txt"), "--passes",
            "00");

        byte[] now = File.ReadAllBytes(dir.File("disk.img"));
        Assert.True(exit == 0, output);
        Assert.Contains("sanitized", output, StringComparison.Ordinal);
        Assert.Equal(-1, now.AsSpan(4096, 8192).IndexOfAnyExcept((byte)0));
        Assert.Equal(-1, now.AsSpan(0x10000, 100).IndexOfAnyExcept((byte)0));
        Assert.Equal(old.AsSpan(0, 4096).ToArray(), now.AsSpan(0, 4096).ToArray());
        Assert.Equal(old.AsSpan(12288, 0x10000 - 12288).ToArray(), now.AsSpan(12288, 0x10000 - 12288).ToArray());
    }

    [Theory]
    [InlineData("missing.img", null, "There is no file")]
    [InlineData("old.img", "0 999999999", "outside the")]
    [InlineData("old.img", "0 10\n5 10", "overlap")]
    [InlineData("old.img", "zero ten", "Line 1")]
    public async Task Sanitize_BadInput_ExitsTwoAndTouchesNothing(string target, string? extents, string message)
    {
        using var dir = new TempDirectory();
        byte[] old = RandomNumberGenerator.GetBytes(10_000);
        File.WriteAllBytes(dir.File("old.img"), old);
        List<string> arguments = ["sanitize", dir.File(target)];
        if (extents is not null)
        {
            File.WriteAllText(dir.File("extents.txt"), extents);
            arguments.AddRange(["--extents", dir.File("extents.txt")]);
        }

        (int exit, string output) = await Secmig.RunAsync([.. arguments]);

        Assert.Equal(2, exit);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(dir.File("old.img")));
    }

    [Fact]
    public async Task Sanitize_WithCertificate_WritesOneThatVerifyCertAcceptsAndRefusesOnceEdited()
    {
        using var dir = new TempDirectory();
        await IssueHostCredentialsAsync(dir);
        File.WriteAllBytes(dir.File("old.img"), RandomNumberGenerator.GetBytes(300_000));

        (int exit, string output) = await Secmig.RunAsync(["sanitize", dir.File("old.img"), "--certificate", dir.File("old.cert.json"),
            .. SignerArguments(dir)]);
        (int valid, string verdict) = await Secmig.RunAsync("sanitize", "verify-cert", dir.File("old.cert.json"), "--ca",
            dir.File("ca/ca.pem"));
        // Defense: without --ca nothing vouches for the signer, so verify-cert says so and exits 1.
        (int unverified, string unverifiedVerdict) = await Secmig.RunAsync("sanitize", "verify-cert", dir.File("old.cert.json"));
        File.WriteAllText(dir.File("old.cert.json"), File.ReadAllText(dir.File("old.cert.json")).Replace("300000", "300001",
            StringComparison.Ordinal));
        (int edited, string refusal) = await Secmig.RunAsync("sanitize", "verify-cert", dir.File("old.cert.json"));

        Assert.True(exit == 0, output);
        Assert.True(valid == 0, verdict);
        Assert.Contains("valid, signed by CN=wiper.test", verdict, StringComparison.Ordinal);
        Assert.Contains("Sanitized", verdict, StringComparison.Ordinal);
        Assert.Equal(1, unverified);
        Assert.Contains("UNVERIFIED SIGNER", unverifiedVerdict, StringComparison.Ordinal);
        Assert.Equal(1, edited);
        Assert.Contains("INVALID: the signature does not match", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sanitize_KilledMidWipe_ResumesWhenRunAgainAndCompletes()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("big.img"), RandomNumberGenerator.GetBytes(96 * 1024 * 1024));
        // The host's key authenticates the checkpoint; without it the wipe would start over.
        await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"));
        await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "host.test", "--out", dir.File("host"));
        string[] hostKey = ["--cert", dir.File("host/cert.pem"), "--key", dir.File("host/key.pem"), "--ca", dir.File("ca/ca.pem")];

        // Gutmann's 35 passes keep the wipe running long enough to be killed in the middle, whatever the disk's speed.
        await using (ExternalProcess wipe = Secmig.Start(["sanitize", dir.File("big.img"), "--method", "gutmann", "--verify", "sample",
            .. hostKey]))
        {
            await wipe.WaitForAsync("pass 3/35 write");
            await wipe.KillAsync();
        }

        Assert.True(File.Exists(dir.File("big.img.secmig-wipe")));
        (int exit, string output) = await Secmig.RunAsync(["sanitize", dir.File("big.img"), "--method", "gutmann", "--verify", "sample",
            .. hostKey]);

        Assert.True(exit == 0, output);
        Assert.Contains("sanitized (resumed from a checkpoint", output, StringComparison.Ordinal);
        Assert.DoesNotContain("pass 1/35", output, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("big.img.secmig-wipe")));
    }

    [Fact]
    public async Task Sanitize_CtrlC_StopsCleanlyWithAReportMarkedIncompleteAndExits130()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("big.img"), RandomNumberGenerator.GetBytes(96 * 1024 * 1024));

        await using ExternalProcess wipe = Secmig.Start("sanitize", dir.File("big.img"), "--method", "gutmann");
        await wipe.WaitForAsync("pass 2/35 write");
        await wipe.SignalAsync("INT");
        int exit = await wipe.WaitForExitAsync();

        Assert.Equal(SecureMigration.Cli.ExitCodes.Interrupted, exit);
        Assert.Contains("INCOMPLETE (interrupted)", wipe.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("big.img.secmig-wipe")), "without this host's key (--cert, --key, --ca) no checkpoint is " +
            "written: a later run starts over");
    }

    [Fact]
    public async Task Sanitize_SymbolicLink_ExitsTwoNamesTheLinkAndTouchesNothing()
    {
        // Defense: secmig sanitize never follows a symbolic link to the file it overwrites.
        using var dir = new TempDirectory();
        byte[] precious = RandomNumberGenerator.GetBytes(10_000);
        File.WriteAllBytes(dir.File("precious.db"), precious);
        File.CreateSymbolicLink(dir.File("old.img"), dir.File("precious.db"));

        (int exit, string output) = await Secmig.RunAsync("sanitize", dir.File("old.img"));

        Assert.True(exit == 2, output);
        Assert.Contains($"'{dir.File("old.img")}' is a symbolic link", output, StringComparison.Ordinal);
        Assert.Equal(precious, File.ReadAllBytes(dir.File("precious.db")));
    }

    [RequiresLoopDeviceFact]
    public async Task Sanitize_BlockDeviceWithoutAllowBlockDevice_ExitsTwoAndTouchesNothing()
    {
        // Defense: secmig sanitize overwrites a block device only with --allow-block-device.
        using var dir = new TempDirectory();
        byte[] old = RandomNumberGenerator.GetBytes(1024 * 1024);
        File.WriteAllBytes(dir.File("disk.img"), old);
        using (LoopDevice device = LoopDevice.Attach(dir.File("disk.img")))
        {
            (int exit, string output) = await Secmig.RunAsync("sanitize", device.Path);

            Assert.True(exit == 2, output);
            Assert.Contains("--allow-block-device", output, StringComparison.Ordinal);
        }

        Assert.Equal(old, File.ReadAllBytes(dir.File("disk.img")));
    }

    /// <summary>Issue 20: --clear-size clears only the start of a volume (OpenStack's volume_clear_size) on a real loop device, and
    /// all of one that is smaller; the rest keeps its bytes.</summary>
    [RequiresLoopDeviceFact]
    public async Task Sanitize_ClearSizeOnALoopDevice_ZeroesOnlyTheStart_AndIsRefusedWithExtents()
    {
        using var dir = new TempDirectory();
        byte[] old = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        File.WriteAllBytes(dir.File("volume.img"), old);
        await File.WriteAllTextAsync(dir.File("extents.txt"), "0 4096\n");
        int exit, both;
        string output, refusal;
        using (LoopDevice device = LoopDevice.Attach(dir.File("volume.img")))
        {
            (exit, output) = await Secmig.RunAsync("sanitize", device.Path, "--allow-block-device", "--method", "zero", "--clear-size",
                "1");
            (both, refusal) = await Secmig.RunAsync("sanitize", device.Path, "--allow-block-device", "--clear-size", "1", "--extents",
                dir.File("extents.txt"));
        }

        byte[] now = File.ReadAllBytes(dir.File("volume.img"));
        Assert.True(exit == 0, output);
        Assert.All(now[..(1024 * 1024)], b => Assert.Equal(0, b));
        Assert.Equal(old[(1024 * 1024)..], now[(1024 * 1024)..]);
        Assert.Equal(2, both);
        Assert.Contains("--clear-size and --extents", refusal, StringComparison.Ordinal);
    }

    /// <summary>Issue 20: on a loop device the report names the device, each pass's path (the zero pass offloaded on
    /// --zero-offload require) and what a purge would take; a file refuses --zero-offload require in one line, exit 2, untouched.</summary>
    [RequiresLoopDeviceFact]
    public async Task Sanitize_ZeroOffloadOnALoopDevice_IsReported_AndRequiredOnAFileIsRefused()
    {
        using var dir = new TempDirectory();
        byte[] old = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        File.WriteAllBytes(dir.File("volume.img"), old);
        File.WriteAllBytes(dir.File("file.img"), old);
        int exit;
        string output;
        string name;
        using (LoopDevice device = LoopDevice.Attach(dir.File("volume.img")))
        {
            name = Path.GetFileName(device.Path);
            (exit, output) = await Secmig.RunAsync("sanitize", device.Path, "--allow-block-device", "--method", "zero", "--zero-offload",
                "require");
        }

        (int refused, string refusal) = await Secmig.RunAsync("sanitize", dir.File("file.img"), "--method", "zero", "--zero-offload",
            "require");

        Assert.True(exit == 0, output);
        Assert.Contains($"device {name}: loop, logical/physical blocks 512/", output, StringComparison.Ordinal);
        Assert.Contains("0x00 (offloaded to the device: BLKZEROOUT", output, StringComparison.Ordinal);
        Assert.Contains("purge: A loop device over", output, StringComparison.Ordinal);
        Assert.Equal(-1, File.ReadAllBytes(dir.File("volume.img")).AsSpan().IndexOfAnyExcept((byte)0));
        Assert.Equal(2, refused);
        Assert.Single(refusal.Trim().Split('\n'));
        Assert.Contains("cannot have its zeros offloaded: it is a file", refusal, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(dir.File("file.img")));
    }

    /// <summary>Interrupted (Ctrl-C) after its first pass, a device wipe leaves its checkpoint in --checkpoint-dir, named after the
    /// device number and owner-only, nothing beside the node in /dev; the same command then resumes from it and removes it.</summary>
    [RequiresLoopDeviceFact]
    public async Task Sanitize_DeviceInterrupted_KeepsItsCheckpointInCheckpointDir_AndTheSameCommandResumes()
    {
        using var dir = new TempDirectory();
        await IssueHostCredentialsAsync(dir);
        // Large enough that the 34 passes after the second take far longer than the test takes to see its line and signal (at
        // 32 MiB a loaded CI host once saw the wipe end first).
        File.WriteAllBytes(dir.File("volume.img"), RandomNumberGenerator.GetBytes(128 * 1024 * 1024));
        using LoopDevice device = LoopDevice.Attach(dir.File("volume.img"));
        string state = dir.File("state");
        string number = File.ReadAllText($"/sys/block/{Path.GetFileName(device.Path)}/dev").Trim();
        string checkpoint = Path.Combine(state, $"block-{number.Replace(':', '-')}.secmig-wipe");
        // Gutmann's 35 passes leave time to interrupt after the first: its checkpoint is written before the second starts.
        string[] wipe = ["sanitize", device.Path, "--allow-block-device", "--method", "gutmann", "--verify", "sample",
            "--checkpoint-dir", state, .. SignerArguments(dir)];

        int interrupted;
        await using (ExternalProcess first = Secmig.Start(wipe))
        {
            await first.WaitForAsync("pass 2/35 write");
            await first.SignalAsync("INT");
            interrupted = await first.WaitForExitAsync();
        }

        bool kept = File.Exists(checkpoint);
        UnixFileMode directoryMode = File.GetUnixFileMode(state);
        (int exit, string output) = await Secmig.RunAsync(wipe);

        Assert.Equal(130, interrupted);
        Assert.True(kept, $"no checkpoint {checkpoint} after the interruption");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, directoryMode);
        Assert.False(File.Exists(device.Path + ".secmig-wipe"), "nothing is kept beside the device node");
        Assert.True(exit == 0, output);
        Assert.Contains("(resumed from a checkpoint an interrupted run left)", output, StringComparison.Ordinal);
        Assert.False(File.Exists(checkpoint), "the finished wipe removes its checkpoint");
    }

    /// <summary>A --checkpoint-dir that is a symbolic link, or that others may write, is refused with one line and exit 2 before
    /// anything is written.</summary>
    [RequiresLoopDeviceFact]
    public async Task Sanitize_CheckpointDirASymbolicLinkOrWritableByOthers_ExitsTwoWithOneLineAndWritesNothing()
    {
        using var dir = new TempDirectory();
        await IssueHostCredentialsAsync(dir);
        byte[] old = RandomNumberGenerator.GetBytes(1024 * 1024);
        File.WriteAllBytes(dir.File("volume.img"), old);
        Directory.CreateDirectory(dir.File("elsewhere"));
        File.CreateSymbolicLink(dir.File("linked"), dir.File("elsewhere"));
        Directory.CreateDirectory(dir.File("shared"));
        File.SetUnixFileMode(dir.File("shared"), (UnixFileMode)Convert.ToInt32("777", 8));
        (int Exit, string Output) linked;
        (int Exit, string Output) shared;
        using (LoopDevice device = LoopDevice.Attach(dir.File("volume.img")))
        {
            string[] wipe = ["sanitize", device.Path, "--allow-block-device", "--method", "zero", .. SignerArguments(dir),
                "--checkpoint-dir"];
            linked = await Secmig.RunAsync([.. wipe, dir.File("linked")]);
            shared = await Secmig.RunAsync([.. wipe, dir.File("shared")]);
        }

        Assert.Equal(2, linked.Exit);
        Assert.Single(linked.Output.Trim().Split('\n'));
        Assert.Contains("symbolic link", linked.Output, StringComparison.Ordinal);
        Assert.Equal(2, shared.Exit);
        Assert.Single(shared.Output.Trim().Split('\n'));
        Assert.Contains("writable by its group or by others", shared.Output, StringComparison.Ordinal);
        Assert.Equal(old, File.ReadAllBytes(dir.File("volume.img")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.File("elsewhere")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.File("shared")));
    }

    /// <summary>A CA and this host's certificate and key (ca/, host/): their key authenticates a wipe's checkpoints.</summary>
    private static async Task IssueHostCredentialsAsync(TempDirectory dir)
    {
        Assert.Equal(0, (await Secmig.RunAsync("pki", "init", "--out", dir.File("ca"))).ExitCode);
        Assert.Equal(0, (await Secmig.RunAsync("pki", "issue", "--ca", dir.File("ca"), "--name", "wiper.test", "--out",
            dir.File("host"))).ExitCode);
    }

    private static string[] SignerArguments(TempDirectory dir) =>
        ["--cert", dir.File("host/cert.pem"), "--key", dir.File("host/key.pem"), "--ca", dir.File("ca/ca.pem")];
}
