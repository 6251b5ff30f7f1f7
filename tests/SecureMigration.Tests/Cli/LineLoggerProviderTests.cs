using Microsoft.Extensions.Logging;
using SecureMigration.Cli.Terminal;

namespace SecureMigration.Tests.Cli;

public sealed class LineLoggerProviderTests
{
    [Fact]
    public void Log_AnEventAtOrAboveTheMinimum_IsOneLineWithLevelCategoryIdMessageAndException()
    {
        var output = new StringWriter();
        using var factory = new LoggerFactory([new LineLoggerProvider(output, color: false)],
            new LoggerFilterOptions { MinLevel = LogLevel.Warning });
        ILogger logger = factory.CreateLogger("SecureMigration.Tunnel");

        logger.LogInformation(new EventId(7), "hidden {What}", "detail");
        logger.LogWarning(new EventId(42), new IOException("reset by peer"), "Peer {Peer} refused", "10.0.0.2");

        string[] lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        string line = Assert.Single(lines);
        Assert.Matches(@"^\d\d:\d\d:\d\d warn: SecureMigration\.Tunnel\[42\] Peer 10\.0\.0\.2 refused " +
            @"System\.IO\.IOException: reset by peer$", line);
    }

    [Fact]
    public void Log_WithColor_ColoursOnlyTheLevel()
    {
        var output = new StringWriter();
        using var provider = new LineLoggerProvider(output, color: true);

        provider.CreateLogger("c").LogError("broken");

        Assert.Contains("\e[31mfail\e[0m: c[0] broken", output.ToString(), StringComparison.Ordinal);
    }
}
