using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Metrics.Push;

/// <summary>The pusher's log events: EventIds 5000-5099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Metrics push to {Url} rejected with HTTP {Status} after {ElapsedMs} ms; retried next cycle")]
    public static partial void PushRejected(ILogger logger, Uri url, int status, double elapsedMs);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Metrics push to {Url} timed out after {TimeoutMs} ms; retried next cycle")]
    public static partial void PushTimedOut(ILogger logger, Uri url, double timeoutMs);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Metrics push to {Url} failed; retried next cycle")]
    public static partial void PushFailed(ILogger logger, Exception exception, Uri url);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Pushing metrics to {Url}")]
    public static partial void PushStarting(ILogger logger, Uri url);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Final metrics push to {Url} at shutdown: {Pushed}")]
    public static partial void FinalPush(ILogger logger, Uri url, bool pushed);
}
