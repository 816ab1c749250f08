using Microsoft.Extensions.Logging;
using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Pipeline;

/// <summary>The pipeline's log events: EventIds 1000-1099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Query from {Origin} failed with outcome {Outcome}")]
    public static partial void QueryFailed(ILogger logger, QueryOrigin origin, QueryOutcome outcome, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information,
        Message = "Query from {Origin} of tenant {Tenant} refused: the {Window} budget '{Budget}' is exhausted until {ResetsAt:O}")]
    public static partial void BudgetExhausted(ILogger logger, QueryOrigin origin, string tenant, string budget, string window, DateTimeOffset resetsAt);
}
