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
}
