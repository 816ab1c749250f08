namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>What went wrong with a Bedrock call, in the terms of the rag_llm_errors_total error_type label.</summary>
public enum BedrockErrorKind
{
    Throttling,
    ModelNotReady,
    Timeout,
    Internal,
    Unavailable,
    Validation,
    AccessDenied,
    NotFound,
    Network,
    Other,
}

public static class BedrockErrorKindExtensions
{
    /// <summary>Transient kinds are retried by the HTTP pipeline; the rest fail on the first attempt.</summary>
    public static bool IsTransient(this BedrockErrorKind kind) => kind is
        BedrockErrorKind.Throttling or BedrockErrorKind.ModelNotReady or BedrockErrorKind.Timeout or
        BedrockErrorKind.Internal or BedrockErrorKind.Unavailable or BedrockErrorKind.Network;

    /// <summary>The error_type label value of rag_llm_errors_total for this kind.</summary>
    public static string ToMetricLabel(this BedrockErrorKind kind) => kind switch
    {
        BedrockErrorKind.Throttling => "throttling",
        BedrockErrorKind.ModelNotReady => "model_not_ready",
        BedrockErrorKind.Timeout => "timeout",
        BedrockErrorKind.Internal => "internal",
        BedrockErrorKind.Unavailable => "unavailable",
        BedrockErrorKind.Validation => "validation",
        BedrockErrorKind.AccessDenied => "access_denied",
        BedrockErrorKind.NotFound => "not_found",
        BedrockErrorKind.Network => "network",
        _ => "other",
    };
}
