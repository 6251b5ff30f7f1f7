using Microsoft.Extensions.Logging;

namespace SecureMigration.Tests.Infrastructure;

/// <summary>A logger factory that keeps every formatted line in a list, for tests of what is logged and how often.</summary>
internal sealed class ListLoggerFactory(List<string> lines) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new ListLogger(lines);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class ListLogger(List<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            lock (lines)
            {
                lines.Add(formatter(state, exception));
            }
        }
    }
}
