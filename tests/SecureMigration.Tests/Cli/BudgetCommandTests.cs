using System.Text.Json;
using SecureMigration.Tests.Infrastructure;

namespace SecureMigration.Tests.Cli;

public sealed class BudgetCommandTests
{
    [Fact]
    public async Task Simulate_Thrash_IsReproducibleAndDeniesRetriesWithReasons()
    {
        (int exit, string first) = await Secmig.RunAsync("budget", "simulate", "--attack", "thrash", "--cut-rate", "0.9", "--duration",
            "10", "--json", "--seed", "5");
        (_, string second) = await Secmig.RunAsync("budget", "simulate", "--attack", "thrash", "--cut-rate", "0.9", "--duration", "10",
            "--json", "--seed", "5");

        Assert.Equal(0, exit);
        Assert.Equal(first, second);
        using JsonDocument summary = JsonDocument.Parse(first);
        Assert.True(summary.RootElement.GetProperty("cut").GetInt64() > 0);
        Assert.True(summary.RootElement.GetProperty("retriesDenied").EnumerateObject().Sum(p => p.Value.GetInt64()) > 0);
    }

    [Fact]
    public async Task Simulate_PingPong_StopsTheCycles()
    {
        (int exit, string output) = await Secmig.RunAsync("budget", "simulate", "--attack", "ping-pong", "--duration", "60", "--json");

        Assert.Equal(0, exit);
        using JsonDocument summary = JsonDocument.Parse(output);
        Assert.True(summary.RootElement.GetProperty("pingPongCyclesStopped").GetInt64() > 0);
    }

    [Theory]
    [InlineData("--cut-rate", "1.5", "--cut-rate is 1.5; it must be 0 to 1")]
    [InlineData("--budget-percent", "-1", "--budget-percent is -1; it must not be negative")]
    [InlineData("--budget-window", "0", "--budget-window is 0; it must be at least 1 second")]
    [InlineData("--attack", "flood", "'flood' not recognized")]
    public async Task Simulate_BadOption_ExitsWith2AndSaysWhy(string option, string value, string expected)
    {
        (int exit, string output) = await Secmig.RunAsync("budget", "simulate", option, value);

        Assert.Equal(2, exit);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }
}
