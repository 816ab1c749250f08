using RagFunctions.Core.Generation.Bedrock;

namespace RagFunctions.Core.Generation;

/// <summary>Maps any provider's exception to the bounded error kinds of <c>rag_llm_errors_total</c>.</summary>
public static class LlmFailures
{
    /// <summary>The kind (whether it is transient follows from it) and the wait the provider asked for, if any.</summary>
    public static (LlmErrorKind Kind, TimeSpan? RetryAfter) Classify(Exception exception) => exception switch
    {
        BedrockException e => (e.ErrorKind, e.RetryAfter),
        TimeoutException or TaskCanceledException => (LlmErrorKind.Timeout, null),
        HttpRequestException => (LlmErrorKind.Network, null),
        _ => (LlmErrorKind.Other, null),
    };
}
