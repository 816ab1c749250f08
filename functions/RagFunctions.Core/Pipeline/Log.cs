using Microsoft.Extensions.Logging;
using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Pipeline;

/// <summary>The pipeline's log events: EventIds 1000-1099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Query from {Origin} failed with outcome {Outcome}")]
    public static partial void QueryFailed(ILogger logger, QueryOrigin origin, QueryOutcome outcome, Exception exception);
}
