namespace RagFunctions.Core.Generation;

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

public static class LlmErrorKinds
{
    /// <summary>Transient kinds are worth retrying (later, or by the provider's HTTP pipeline); the rest fail at once.</summary>
    public static bool IsTransient(this LlmErrorKind kind) => kind is
        LlmErrorKind.Throttling or LlmErrorKind.ModelNotReady or LlmErrorKind.Timeout or
        LlmErrorKind.Internal or LlmErrorKind.Unavailable or LlmErrorKind.Network;
}
