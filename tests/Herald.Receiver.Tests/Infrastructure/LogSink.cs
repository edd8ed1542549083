using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Receiver.Tests.Infrastructure;

/// <summary>Keeps every log entry an app writes, for tests to assert on.</summary>
public sealed class LogSink : ILoggerProvider
{
    public sealed record Entry(LogLevel Level, int EventId, string Category, string Message, Exception? Exception);

    public ConcurrentQueue<Entry> Entries { get; } = new();

    /// <summary>The receiver kit's own entries.</summary>
    public IReadOnlyList<Entry> Receiver => Entries.Where(e => e.Category.StartsWith("Herald.Receiver", StringComparison.Ordinal)).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Entries.Enqueue(new Entry(logLevel, eventId.Id, category, formatter(state, exception), exception));
    }
}
