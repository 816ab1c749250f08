using System.Text.Json.Serialization;

namespace RagFunctions.Core.Batches;

/// <summary>Body of POST /api/batches.</summary>
public sealed record BatchRequest(IReadOnlyList<string?>? Questions, string? Domain);

/// <summary>One queue message: one question of one batch.</summary>
public sealed record BatchMessage(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("question")] string Question,
    [property: JsonPropertyName("domain")] string? Domain);

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

/// <summary>A queue message that can never be processed; it is retried to the poison queue, never dropped.</summary>
public sealed class InvalidQueueMessageException(string reason) : Exception(reason);

/// <summary>No batch has this id.</summary>
public sealed class BatchNotFoundException(string batchId) : Exception($"Batch '{batchId}' does not exist.")
{
    public string BatchId { get; } = batchId;
}

[JsonSerializable(typeof(BatchMessage))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class BatchJsonContext : JsonSerializerContext;
