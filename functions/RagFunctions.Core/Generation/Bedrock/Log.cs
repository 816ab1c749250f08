using Microsoft.Extensions.Logging;

using RagFunctions.Core.Metrics;

namespace RagFunctions.Core.Generation.Bedrock;

internal static partial class Log
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "Bedrock attempt {Attempt} failed ({ErrorKind}, status {StatusCode}); retrying in {DelayMs} ms")]
    public static partial void RetryingBedrockCall(ILogger logger, int attempt, string errorKind, int? statusCode, double delayMs);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Error,
        Message = "Bedrock Converse call to model {ModelId} failed: {ErrorKind} (status {StatusCode}, type {AwsErrorType})")]
    public static partial void BedrockCallFailed(ILogger logger, Exception exception, string modelId, LlmErrorKind errorKind, int? statusCode, string? awsErrorType);
}
