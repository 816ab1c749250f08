using RagFunctions.Core.Generation.Bedrock;
using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Generation;

/// <summary>Maps any provider's exception to the bounded error kinds of <c>rag_llm_errors_total</c>.</summary>
public static class LlmFailures
{
    public static (LlmErrorKind Kind, bool IsTransient, TimeSpan? RetryAfter) Classify(Exception exception) => exception switch
    {
        BedrockException e => (e.ErrorKind, e.IsTransient, e.RetryAfter),
        TimeoutException => (LlmErrorKind.Timeout, true, null),
        TaskCanceledException => (LlmErrorKind.Timeout, true, null),
        HttpRequestException => (LlmErrorKind.Network, true, null),
        _ => (LlmErrorKind.Other, false, null),
    };
}
