using Microsoft.Extensions.Logging;

namespace RagFunctions.Core.Batches;

/// <summary>The batch area's log events (EventIds 3000–3099): submission, processing and poison.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Batch {BatchId} submitted with {Count} questions")]
    public static partial void BatchSubmitted(ILogger logger, string batchId, int count);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Batch {BatchId} question {Index} was already answered; redelivery skipped")]
    public static partial void AlreadyAnswered(ILogger logger, string batchId, int index);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Batch {BatchId} question {Index} was answered twice (a claim expired while its owner still worked); the second row was not written")]
    public static partial void DuplicateResult(ILogger logger, string batchId, int index);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Rejected queue message: {Reason}")]
    public static partial void InvalidMessage(ILogger logger, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Poison message for batch {BatchId} question {Index} recorded as failed (new row: {Inserted})")]
    public static partial void Poisoned(ILogger logger, string batchId, int index, bool inserted);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Unprocessable poison message kept in the dead-letter table (new row: {Inserted}): {Reason}")]
    public static partial void DeadLettered(ILogger logger, string reason, bool inserted);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Batch {BatchId} question {Index} of tenant {Tenant} deferred: the {Window} budget '{Budget}' is exhausted; its message reappears at {HiddenUntil:O} (first deferral of this question: {First})")]
    public static partial void Deferred(ILogger logger, string batchId, int index, string tenant, string budget, string window, DateTimeOffset hiddenUntil, bool first);
}
