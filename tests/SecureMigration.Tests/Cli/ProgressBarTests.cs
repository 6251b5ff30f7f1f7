using Microsoft.Extensions.Time.Testing;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Tests.Cli;

/// <summary>Progress lines (issue 16): no rate from a first sample taken microseconds after the start.</summary>
public sealed class ProgressBarTests
{
    [Fact]
    public void Report_RightAfterTheStart_ShowsNoRateThenTheRateOnceHalfASecondPassed()
    {
        var clock = new FakeTimeProvider();
        using var output = new StringWriter();
        var bar = new ProgressBar(new ConsoleStyle(output, isTerminal: false, useColor: false), "pass 1/1 verify", 4L << 30, clock);

        bar.Report(1L << 20);
        clock.Advance(TimeSpan.FromSeconds(1));
        bar.Report(1L << 30);

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("  pass 1/1 verify: 0% 1.0 MiB of 4.00 GiB", lines[0].TrimEnd('\r'));
        Assert.Equal("  pass 1/1 verify: 25% 1.00 GiB of 4.00 GiB, 1.00 GiB/s, ETA 00:03", lines[1].TrimEnd('\r'));
    }
}
