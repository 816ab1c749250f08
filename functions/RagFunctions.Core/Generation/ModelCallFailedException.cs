namespace RagFunctions.Core.Generation;

/// <summary>A model call that failed after the provider's own retries; the kind is already counted.</summary>
public sealed class ModelCallFailedException(string modelId, LlmErrorKind kind, TimeSpan? retryAfter, Exception inner)
    : Exception($"Model {modelId} failed: {kind}.", inner)
{
    public string ModelId { get; } = modelId;

    public LlmErrorKind Kind { get; } = kind;

    /// <summary>True when trying again later may succeed (throttling, unavailable, timeouts).</summary>
    public bool IsTransient => Kind.IsTransient();

    public TimeSpan? RetryAfter { get; } = retryAfter;
}
