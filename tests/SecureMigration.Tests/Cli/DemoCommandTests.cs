using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_OnEmbeddedDefaults_ExitsZeroAndShowsEveryDefenseHolding()
    {
        (int exit, string output) = await Secmig.RunAsync("demo", "--image-mib", "16");

        Assert.True(exit == 0, output);
        Assert.Contains("Committed: ", output, StringComparison.Ordinal);
        Assert.Contains("Refused by the source (UntrustedChain)", output, StringComparison.Ordinal);
        Assert.Contains("Refused by the destination", output, StringComparison.Ordinal);
        Assert.Contains("denied (CircuitOpen)", output, StringComparison.Ordinal);
        Assert.Contains("Stable: the VM runs on", output, StringComparison.Ordinal);
        Assert.Contains("Trying to resume the old copy anyway", output, StringComparison.Ordinal);
        Assert.Contains("Stable: exactly one runnable copy", output, StringComparison.Ordinal);
        Assert.Contains("residue-sanitized", output, StringComparison.Ordinal);
        Assert.Contains("Every defense held", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_WithAWorkDirectory_LeavesAClusterThatStatusAndAuditVerifyRead()
    {
        using var work = new TempDirectory();

        (int exit, string output) = await Secmig.RunAsync("demo", "--image-mib", "4", "--work", work.Path);
        (int statusExit, string status) = await Secmig.RunAsync("status", "--work", work.Path);
        (int auditExit, string audit) = await Secmig.RunAsync("audit", "verify", Path.Combine(work.Path, "hosts", "source.demo",
            "audit.log"));

        Assert.True(exit == 0, output);
        Assert.Equal(0, statusExit);
        Assert.Contains("demo-vm: owner ", status, StringComparison.Ordinal);
        Assert.Contains("(runnable)", status, StringComparison.Ordinal);
        Assert.Contains("residue: none", status, StringComparison.Ordinal);
        Assert.Equal(0, auditExit);
        Assert.Contains("intact", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_WithMetrics_PrintsWhatWasMeasuredWithTagsAndUnits()
    {
        (int exit, string output) = await Secmig.RunAsync("demo", "--image-mib", "4", "--metrics");

        Assert.True(exit == 0, output);
        Assert.Matches(@"metric securemigration\.migrations\{role=Source,status=Completed\} \d+ \{migration\}", output);
        Assert.Matches(@"metric securemigration\.channel\.handshakes\{result=UntrustedChain,role=destination\} 1 \{handshake\}", output);
        Assert.Matches(@"metric securemigration\.migration\.duration\{role=Source,status=Completed\} " +
            @"count=\d+ sum=[\d.]+ max=[\d.]+ s", output);
        Assert.Matches(@"metric securemigration\.sanitizer\.runs\{method=NistClear,result=succeeded\} \d+ \{run\}", output);
    }

    [Fact]
    public async Task Demo_BadImageSize_IsRejectedBeforeAnythingRuns()
    {
        (int exit, string output) = await Secmig.RunAsync("demo", "--image-mib", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--image-mib is 0", output, StringComparison.Ordinal);
        Assert.DoesNotContain("1. Two hosts", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsTheVersion()
    {
        (int exit, string output) = await Secmig.RunAsync("--version");

        Assert.Equal(0, exit);
        Assert.StartsWith("0.1.0", output.Trim(), StringComparison.Ordinal);
    }
}
