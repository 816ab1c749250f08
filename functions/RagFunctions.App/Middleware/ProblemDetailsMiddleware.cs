using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Batches;
using RagFunctions.App.Http;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;

namespace RagFunctions.App.Middleware;

/// <summary>
/// Maps exceptions of HTTP functions to RFC 9457 problem+json. Input errors are 4xx with a useful detail (400s carry
/// per-field <c>errors</c>, shaped like ASP.NET's ValidationProblemDetails), an unavailable model or missing model
/// credentials are 503, and anything unexpected is a 500 that carries a trace id. No problem names a .NET type or
/// carries a stack trace, user input is quoted through <see cref="UserText"/>, and a detail stays under 1 KB.
/// It decides responses only: a query's outcome, rejected or not, is counted by the pipeline.
/// </summary>
public sealed class ProblemDetailsMiddleware(ILogger<ProblemDetailsMiddleware> logger) : IFunctionsWorkerMiddleware
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            var httpContext = context.GetHttpContext() ?? throw new InvalidOperationException("HTTP function without an HttpContext.", ex);
            if (ex is not RejectedInputException and not BatchNotFoundException and not ModelCallFailedException and not ModelCredentialsException)
            {
                Log.Unhandled(logger, context.FunctionDefinition.Name, context.InvocationId, ex);
            }

            // The response is written; the invocation itself was already metered as a failure by the inner middleware.
            await WriteAsync(httpContext, ex, context.InvocationId);
        }
    }

    /// <summary>Writes the problem for <paramref name="exception"/>; public so the response shape has one definition.</summary>
    public static Task WriteAsync(HttpContext httpContext, Exception exception, string traceId)
    {
        var problem = exception switch
        {
            InvalidRequestException e => new HttpValidationProblemDetails(e.Errors.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal))
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid request",
                Detail = e.Detail,
            },
            RequestRejectedException e => Problem(e.Status, e.Title, e.Detail),
            BatchNotFoundException e => Problem(StatusCodes.Status404NotFound, "Batch not found", $"No batch has id {UserText.Quote(e.BatchId)}."),
            ModelCredentialsException e => Problem(StatusCodes.Status503ServiceUnavailable, "Model credentials missing", e.Detail),
            ModelCallFailedException { IsTransient: true } e => Problem(StatusCodes.Status503ServiceUnavailable, "Model unavailable",
                $"The model is throttled or unavailable ({e.Kind}) after retries. Try again later."),
            ModelCallFailedException e => Problem(StatusCodes.Status502BadGateway, "Model call failed",
                $"The model rejected the request ({e.Kind})."),
            _ => Problem(StatusCodes.Status500InternalServerError, "Internal error", "An unexpected error occurred. Quote the traceId when reporting it."),
        };
        problem.Detail = UserText.Bound(problem.Detail ?? string.Empty, InputErrors.MaxDetailBytes);
        problem.Extensions["traceId"] = traceId;
        if (exception is RequestRejectedException { AcceptEncoding: { } acceptEncoding })
        {
            httpContext.Response.Headers.AcceptEncoding = acceptEncoding;
        }

        if (exception is ModelCallFailedException { IsTransient: true } transient)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling((transient.RetryAfter ?? DefaultRetryAfter).TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Problem(problem).ExecuteAsync(httpContext);
    }

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };
}
