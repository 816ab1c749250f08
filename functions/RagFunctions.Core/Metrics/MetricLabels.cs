namespace RagFunctions.Core.Metrics;

/// <summary>What started a query; a bounded label set.</summary>
public enum QueryTrigger
{
    Http,
    Queue,
}

/// <summary>How a query ended; a bounded label set.</summary>
public enum QueryOutcome
{
    Success,
    Invalid,
    Throttled,
    Unavailable,
    Error,
}

/// <summary>Why a model call failed; a bounded label set shared by every provider.</summary>
public enum LlmErrorKind
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

public static class MetricLabels
{
    /// <summary>Transient kinds are worth retrying (later, or by the provider's HTTP pipeline); the rest fail at once.</summary>
    public static bool IsTransient(this LlmErrorKind kind) => kind is
        LlmErrorKind.Throttling or LlmErrorKind.ModelNotReady or LlmErrorKind.Timeout or
        LlmErrorKind.Internal or LlmErrorKind.Unavailable or LlmErrorKind.Network;

    public static string LabelValue(this QueryTrigger trigger) => trigger switch
    {
        QueryTrigger.Http => "http",
        QueryTrigger.Queue => "queue",
        _ => throw new ArgumentOutOfRangeException(nameof(trigger)),
    };

    public static string LabelValue(this QueryOutcome outcome) => outcome switch
    {
        QueryOutcome.Success => "success",
        QueryOutcome.Invalid => "invalid",
        QueryOutcome.Throttled => "throttled",
        QueryOutcome.Unavailable => "unavailable",
        QueryOutcome.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };

    public static string LabelValue(this LlmErrorKind kind) => kind switch
    {
        LlmErrorKind.Throttling => "throttling",
        LlmErrorKind.ModelNotReady => "model_not_ready",
        LlmErrorKind.Timeout => "timeout",
        LlmErrorKind.Internal => "internal",
        LlmErrorKind.Unavailable => "unavailable",
        LlmErrorKind.Validation => "validation",
        LlmErrorKind.AccessDenied => "access_denied",
        LlmErrorKind.NotFound => "not_found",
        LlmErrorKind.Network => "network",
        _ => "other",
    };
}
