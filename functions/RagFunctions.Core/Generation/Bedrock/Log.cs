using Microsoft.Extensions.Logging;


namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>The Bedrock client's log events: EventIds 2100-2199.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning,
        Message = "Bedrock attempt {Attempt} failed ({ErrorKind}, status {StatusCode}); retrying in {DelayMs} ms")]
    public static partial void RetryingBedrockCall(ILogger logger, int attempt, string errorKind, int? statusCode, double delayMs);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Error,
        Message = "Bedrock Converse call to model {ModelId} failed: {ErrorKind} (status {StatusCode}, type {AwsErrorType})")]
    public static partial void BedrockCallFailed(ILogger logger, Exception exception, string modelId, LlmErrorKind errorKind, int? statusCode, string? awsErrorType);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Error, Message = "Bedrock has no usable AWS credentials; looked in: {Chain}")]
    public static partial void NoCredentials(ILogger logger, string chain, Exception exception);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Warning,
        Message = "Rag:Generation:Provider is Bedrock, but no AWS credentials are configured ({Chain}). Unless an instance role supplies them, every query will get 503 until one of these is set.")]
    public static partial void NoCredentialsConfigured(ILogger logger, string chain);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Error,
        Message = "Rag:Generation:Provider is Bedrock, but no AWS credentials are configured and instance metadata is disabled ({Chain}). Every query will get 503 until one of these is set.")]
    public static partial void NoCredentialsPossible(ILogger logger, string chain);
}
