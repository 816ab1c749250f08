namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>A Bedrock call that failed for good (after any retries).</summary>
public sealed class BedrockException : Exception
{
    public BedrockException()
        : this(LlmErrorKind.Other, "Bedrock call failed.")
    {
    }

    public BedrockException(string message)
        : this(LlmErrorKind.Other, message)
    {
    }

    public BedrockException(string message, Exception innerException)
        : this(LlmErrorKind.Other, message, innerException)
    {
    }

    public BedrockException(
        LlmErrorKind errorKind,
        string message,
        Exception? innerException = null,
        int? statusCode = null,
        string? awsErrorType = null,
        TimeSpan? retryAfter = null)
        : base(message, innerException)
    {
        ErrorKind = errorKind;
        StatusCode = statusCode;
        AwsErrorType = awsErrorType;
        RetryAfter = retryAfter;
    }

    public LlmErrorKind ErrorKind { get; }

    /// <summary>True when the failure was worth retrying (the pipeline already did, up to MaxRetries).</summary>
    public bool IsTransient => ErrorKind.IsTransient();

    /// <summary>The service's Retry-After on the last response, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>HTTP status of the last response; null when no response arrived (network failure, timeout).</summary>
    public int? StatusCode { get; }

    /// <summary>AWS error type, e.g. "ThrottlingException", from x-amzn-ErrorType or the body's __type.</summary>
    public string? AwsErrorType { get; }
}
