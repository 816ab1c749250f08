using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// Records the pusher's own log events (ids 5001-5005 of RagFunctions.Core.Metrics.Push) of one app instance, so the
/// test knows the shutdown push was accepted before it takes the registry's final values as the truth.
/// </summary>
internal sealed class PushLog : ILoggerProvider
{
    private const int FinalPushEventId = 5005;
    private readonly ConcurrentQueue<(int EventId, string Message)> _events = new();

    /// <summary>The outcome of the shutdown push, or null if none was logged.</summary>
    public bool? FinalPushAccepted =>
        _events.Where(e => e.EventId == FinalPushEventId).Select(e => (bool?)e.Message.EndsWith("True", StringComparison.Ordinal)).LastOrDefault();

    /// <summary>Rejected, timed-out or failed pushes (retried next cycle and counted in rag_metrics_push_failures_total).</summary>
    public int FailedPushes => _events.Count(e => e.EventId is >= 5001 and <= 5003);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(PushLog owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id is >= 5001 and <= 5005)
            {
                owner._events.Enqueue((eventId.Id, formatter(state, exception)));
            }
        }
    }
}
