using RagFunctions.Core.Generation;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Metrics;

/// <summary>How a query ended; a bounded label set.</summary>
public enum QueryOutcome
{
    Success,
    Invalid,
    Throttled,
    Unavailable,
    Error,

    /// <summary>Refused because the tenant's or the global hard budget is reached: a client-side 429, not a server error.</summary>
    BudgetExhausted,
}

public static class MetricLabels
{
    /// <summary>The <c>trigger</c> label of rag_requests_total.</summary>
    public static string LabelValue(this QueryOrigin origin) => origin switch
    {
        QueryOrigin.Http => "http",
        QueryOrigin.Queue => "queue",
        _ => throw new ArgumentOutOfRangeException(nameof(origin)),
    };

    public static string LabelValue(this QueryOutcome outcome) => outcome switch
    {
        QueryOutcome.Success => "success",
        QueryOutcome.Invalid => "invalid",
        QueryOutcome.Throttled => "throttled",
        QueryOutcome.Unavailable => "unavailable",
        QueryOutcome.Error => "error",
        QueryOutcome.BudgetExhausted => "budget_exhausted",
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
