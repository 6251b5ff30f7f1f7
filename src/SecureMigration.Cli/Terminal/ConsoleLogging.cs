using Microsoft.Extensions.Logging;

namespace SecureMigration.Cli.Terminal;

/// <summary>The library's log events on standard error, one line each, coloured only on a terminal and without NO_COLOR.</summary>
internal static class ConsoleLogging
{
    public static ILoggerFactory Create(LogLevel minimum) => new LoggerFactory(
        [new LineLoggerProvider(Console.Error, color: string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")) &&
            !Console.IsErrorRedirected)],
        new LoggerFilterOptions { MinLevel = minimum });
}
