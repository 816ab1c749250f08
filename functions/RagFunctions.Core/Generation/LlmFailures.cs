using RagFunctions.Core.Generation.Bedrock;
using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Generation;

/// <summary>Maps any provider's exception to the bounded error kinds of <c>rag_llm_errors_total</c>.</summary>
public static class LlmFailures
{
    public static (LlmErrorKind Kind, bool IsTransient, TimeSpan? RetryAfter) Classify(Exception exception) => exception switch
    {
        BedrockException e => (KindOf(e.ErrorKind), e.IsTransient, e.RetryAfter),
        TimeoutException => (LlmErrorKind.Timeout, true, null),
        TaskCanceledException => (LlmErrorKind.Timeout, true, null),
        HttpRequestException => (LlmErrorKind.Network, true, null),
        _ => (LlmErrorKind.Other, false, null),
    };

    private static LlmErrorKind KindOf(BedrockErrorKind kind) => kind switch
    {
        BedrockErrorKind.Throttling => LlmErrorKind.Throttling,
        BedrockErrorKind.ModelNotReady => LlmErrorKind.ModelNotReady,
        BedrockErrorKind.Timeout => LlmErrorKind.Timeout,
        BedrockErrorKind.Internal => LlmErrorKind.Internal,
        BedrockErrorKind.Unavailable => LlmErrorKind.Unavailable,
        BedrockErrorKind.Validation => LlmErrorKind.Validation,
        BedrockErrorKind.AccessDenied => LlmErrorKind.AccessDenied,
        BedrockErrorKind.NotFound => LlmErrorKind.NotFound,
        BedrockErrorKind.Network => LlmErrorKind.Network,
        _ => LlmErrorKind.Other,
    };
}
