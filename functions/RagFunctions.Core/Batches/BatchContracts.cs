using RagFunctions.Core.Input;

namespace RagFunctions.Core.Batches;

/// <summary>Body of POST /api/batches.</summary>
public sealed record BatchRequest(IReadOnlyList<string?>? Questions, string? Domain);

public sealed record BatchAccepted(string BatchId, int Count);

public sealed record BatchResultView(
    int Index, string Status, string? Question, string? Answer, string? Error, string? Model,
    long InputTokens, long OutputTokens, long CacheReadTokens, long CacheWriteTokens, decimal CostUsd, double LatencyMs);

public sealed record BatchStatusView(
    string BatchId, string Status, int Count, int Completed, int Succeeded, int Failed, decimal CostUsd,
    DateTimeOffset SubmittedAt, IReadOnlyList<BatchResultView> Results, string? ContinuationToken);

public static class BatchStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Done = "done";
}

/// <summary>A queue message that can never be processed; it is retried to the poison queue, which keeps it as a dead letter.</summary>
public sealed class InvalidQueueMessageException(string reason) : RejectedInputException(reason);

/// <summary>No batch has this id.</summary>
public sealed class BatchNotFoundException(string batchId) : Exception("No batch has this id.")
{
    public string BatchId { get; } = batchId;
}

/// <summary>One delivery of a queue message: its id (the same on every delivery), its decoded body and how often it was delivered.</summary>
public sealed record QueueDelivery(string MessageId, ReadOnlyMemory<byte> Body, long DequeueCount);
