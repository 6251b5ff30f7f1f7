using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_OnEmbeddedDefaults_ExitsZeroAndShowsEveryDefenseHolding()
    {
        (int exit, string output) = await Secmig.RunAsync("demo", "--image-mib", "16");

        Assert.Equal(0, exit);
        Assert.Contains("The image arrived intact.", output, StringComparison.Ordinal);
        Assert.Contains("Refused by the source (UntrustedChain)", output, StringComparison.Ordinal);
        Assert.Contains("Refused by the destination", output, StringComparison.Ordinal);
        Assert.Contains("denied (CircuitOpen)", output, StringComparison.Ordinal);
        Assert.Contains("Every defense held", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_BadImageSize_IsRejectedBeforeAnythingRuns()
    {
        (int exit, string output) = await Secmig.RunAsync("demo", "--image-mib", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--image-mib is 0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("1. A throwaway PKI", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        (int exit, string output) = await Secmig.RunAsync("--version");

        Assert.Equal(0, exit);
        Assert.StartsWith("0.1.0", output.Trim(), StringComparison.Ordinal);
    }
}
