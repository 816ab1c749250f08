using System.Net;
using System.Text.Json;


namespace RagFunctions.Core.Generation.Bedrock;

/// <summary>A non-success Converse response, classified.</summary>
internal sealed record BedrockError(LlmErrorKind Kind, int StatusCode, string? AwsErrorType, string Message, TimeSpan? RetryAfter)
{
    public BedrockException ToException() => new(
        Kind,
        $"Bedrock returned {StatusCode} {AwsErrorType ?? "(no error type)"}: {Message}",
        statusCode: StatusCode,
        awsErrorType: AwsErrorType,
        retryAfter: RetryAfter);
}

/// <summary>Reads Bedrock's error type from x-amzn-ErrorType, falling back to the JSON body's __type, then to the status code.</summary>
internal static class BedrockErrors
{
    public const string ErrorTypeHeader = "x-amzn-ErrorType";

    public static async ValueTask<BedrockError> ClassifyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        BedrockErrorBody? body = null;
        try
        {
            // Buffered, so the retry predicate and the client can both read it.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (bytes.Length > 0)
            {
                body = JsonSerializer.Deserialize(bytes, BedrockJsonContext.Default.BedrockErrorBody);
            }
        }
        catch (JsonException)
        {
            // Not JSON (e.g. a proxy's HTML page): classify by header and status alone.
        }

        var errorType = ErrorTypeFromHeader(response) ?? ErrorTypeFromBody(body?.Type);
        var status = (int)response.StatusCode;
        return new BedrockError(
            KindFor(errorType, response.StatusCode),
            status,
            errorType,
            string.IsNullOrWhiteSpace(body?.Message) ? response.ReasonPhrase ?? "no message" : body.Message,
            RetryAfterOf(response));
    }

    /// <summary>"ThrottlingException:http://internal.amazon.com/coral/..." → "ThrottlingException".</summary>
    public static string? ErrorTypeFromHeader(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(ErrorTypeHeader, out var values))
        {
            return null;
        }

        var value = values.FirstOrDefault();
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        return (colon < 0 ? value : value[..colon]).Trim();
    }

    /// <summary>"com.amazon.coral.validate#ValidationException" → "ValidationException".</summary>
    public static string? ErrorTypeFromBody(string? type)
    {
        if (string.IsNullOrWhiteSpace(type))
        {
            return null;
        }

        var hash = type.LastIndexOf('#');
        var name = hash < 0 ? type : type[(hash + 1)..];
        var colon = name.IndexOf(':', StringComparison.Ordinal);
        return (colon < 0 ? name : name[..colon]).Trim();
    }

    public static LlmErrorKind KindFor(string? errorType, HttpStatusCode status) => errorType switch
    {
        "ThrottlingException" => LlmErrorKind.Throttling,
        "ModelNotReadyException" => LlmErrorKind.ModelNotReady,
        "ModelTimeoutException" => LlmErrorKind.Timeout,
        "InternalServerException" => LlmErrorKind.Internal,
        "ServiceUnavailableException" => LlmErrorKind.Unavailable,
        "ValidationException" => LlmErrorKind.Validation,
        "AccessDeniedException" => LlmErrorKind.AccessDenied,
        "ResourceNotFoundException" => LlmErrorKind.NotFound,
        // Any other named type (ServiceQuotaExceeded, ModelError, signature errors...) is final.
        not null => LlmErrorKind.Other,
        // No type at all (a proxy or load balancer answered): go by status.
        null => status switch
        {
            HttpStatusCode.TooManyRequests => LlmErrorKind.Throttling,
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => LlmErrorKind.Timeout,
            HttpStatusCode.InternalServerError => LlmErrorKind.Internal,
            HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable => LlmErrorKind.Unavailable,
            HttpStatusCode.BadRequest => LlmErrorKind.Validation,
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => LlmErrorKind.AccessDenied,
            HttpStatusCode.NotFound => LlmErrorKind.NotFound,
            _ => LlmErrorKind.Other,
        },
    };

    public static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
