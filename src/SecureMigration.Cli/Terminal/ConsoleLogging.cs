using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace SecureMigration.Cli.Terminal;

/// <summary>The library's log events on standard error, one line each, coloured only on a terminal and without NO_COLOR.</summary>
internal static class ConsoleLogging
{
    public static ILoggerFactory Create(LogLevel minimum) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(minimum)
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
            console.ColorBehavior = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")) && !Console.IsErrorRedirected
                ? LoggerColorBehavior.Enabled
                : LoggerColorBehavior.Disabled;
        })
        .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
}
