using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

/// <summary>'secmig help' as a new operator types it (issue 16).</summary>
public sealed class HelpCommandTests
{
    [Fact]
    public async Task Help_AloneOrWithACommand_PrintsThatHelp()
    {
        (int exit, string output) = await Secmig.RunAsync("help");
        (int commandExit, string commandOutput) = await Secmig.RunAsync("help", "tunnel", "accept");

        Assert.True(exit == 0, output);
        Assert.Contains("Start with: secmig demo", output, StringComparison.Ordinal);
        Assert.True(commandExit == 0, commandOutput);
        Assert.Contains("--allow-peer", commandOutput, StringComparison.Ordinal);
    }

    /// <summary>A subcommand's help shows its own arguments, not its parent's: verify-cert overwrites nothing.</summary>
    [Fact]
    public async Task Help_OfASubcommand_LeavesOutItsParentsArguments()
    {
        (int exit, string output) = await Secmig.RunAsync("sanitize", "verify-cert", "--help");
        (int parentExit, string parent) = await Secmig.RunAsync("sanitize", "--help");

        Assert.True(exit == 0, output);
        Assert.Contains("secmig sanitize verify-cert <certificate> [options]", output, StringComparison.Ordinal);
        Assert.DoesNotContain("<path>", output, StringComparison.Ordinal);
        Assert.DoesNotContain("to overwrite", output, StringComparison.Ordinal);
        Assert.True(parentExit == 0, parent);
        Assert.Contains("<path>  The file to overwrite", parent, StringComparison.Ordinal);
    }

    /// <summary>One exit-code table: the one secmig's code returns is the one --help prints and README.md and docs/cli.md show.</summary>
    [Fact]
    public async Task ExitCodes_HelpReadmeAndCliDoc_ShowTheSameTable()
    {
        (int exit, string help) = await Secmig.RunAsync("--help");
        string readme = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "README.md"));
        string cliDoc = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "docs", "cli.md"));
        string readmeLine = readme[readme.IndexOf("Exit codes (", StringComparison.Ordinal)..];
        readmeLine = readmeLine[..readmeLine.IndexOf("\nSee ", StringComparison.Ordinal)];

        Assert.Equal(0, exit);
        Assert.Equal([0, 1, 2, 3, 4, 130], SecureMigration.Cli.ExitCodes.Table.Select(row => row.Code));
        foreach ((int code, string meaning) in SecureMigration.Cli.ExitCodes.Table)
        {
            Assert.Contains($"{code,-4} {meaning}", help, StringComparison.Ordinal);
            Assert.Contains($"\n| {code} | ", cliDoc, StringComparison.Ordinal);
            Assert.Matches($@"(^|\s){code} ", readmeLine);
        }
    }
}
