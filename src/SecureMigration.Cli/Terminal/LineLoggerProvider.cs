using Microsoft.Extensions.Logging;

namespace SecureMigration.Cli.Terminal;

/// <summary>
/// Writes each log event as one line to <c>output</c> (standard error in <c>secmig</c>): time, level, category, event
/// id, message, and the exception when there is one; the level is coloured only when <c>color</c> is set. No
/// dependency injection, options or configuration behind it, so a short-lived <c>secmig migrate</c> does not pay for
/// them at start-up (about 40 ms of the console logger's, measured on the ReadyToRun tool).
/// </summary>
internal sealed class LineLoggerProvider(TextWriter output, bool color) : ILoggerProvider
{
    private readonly Lock _gate = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(LogLevel level, string category, EventId id, string message, Exception? exception)
    {
        (string label, string ansi) = level switch
        {
            LogLevel.Trace => ("trce", "\e[90m"),
            LogLevel.Debug => ("dbug", "\e[90m"),
            LogLevel.Information => ("info", "\e[32m"),
            LogLevel.Warning => ("warn", "\e[33m"),
            LogLevel.Error => ("fail", "\e[31m"),
            _ => ("crit", "\e[1;31m"),
        };
        string shown = color ? $"{ansi}{label}\e[0m" : label;
        string line = $"{DateTime.Now:HH:mm:ss} {shown}: {category}[{id.Id}] " +
            $"{message}{(exception is null ? string.Empty : $" {exception}")}";
        lock (_gate)
        {
            output.WriteLine(line);
        }
    }

    private sealed class Logger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(logLevel, category, eventId, formatter(state, exception), exception);
            }
        }
    }
}
