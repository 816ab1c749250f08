using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Batches;
using RagFunctions.App.Http;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;

namespace RagFunctions.App.Middleware;

/// <summary>
/// Maps exceptions of HTTP functions to RFC 9457 problem+json. Input errors are 4xx with a useful detail (400s carry
/// per-field <c>errors</c>, shaped like ASP.NET's ValidationProblemDetails), an unavailable model or missing model
/// credentials are 503, an exhausted budget is 429 with <c>Retry-After</c> until its reset, and anything unexpected is a 500 that carries a trace id. No problem names a .NET type or
/// carries a stack trace, user input is quoted through <see cref="UserText"/>, and a detail stays under 1 KB.
/// It decides responses only: a query's outcome, rejected or not, is counted by the pipeline.
/// </summary>
public sealed class ProblemDetailsMiddleware(ILogger<ProblemDetailsMiddleware> logger, TimeProvider time) : IFunctionsWorkerMiddleware
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>The problem type of a refusal by budget (RFC 9457 §3.1.1: a tag URI names a type that is not dereferenced).</summary>
    public const string BudgetExhaustedType = "tag:ragfunctions,2026:problem:budget-exhausted";

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            var httpContext = context.GetHttpContext() ?? throw new InvalidOperationException("HTTP function without an HttpContext.", ex);
            if (ex is not RejectedInputException and not BatchNotFoundException and not ModelCallFailedException and not ModelCredentialsException
                and not BudgetExhaustedException)
            {
                Log.Unhandled(logger, context.FunctionDefinition.Name, context.InvocationId, ex);
            }

            // The response is written; the invocation itself was already metered as a failure by the inner middleware.
            await WriteAsync(httpContext, ex, context.InvocationId, time.GetUtcNow());
        }
    }

    /// <summary>Writes the problem for <paramref name="exception"/>; public so the response shape has one definition.</summary>
    public static Task WriteAsync(HttpContext httpContext, Exception exception, string traceId, DateTimeOffset now)
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
            BudgetExhaustedException { Exhausted: var x } => BudgetProblem(x),
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

        var retryAfter = exception switch
        {
            ModelCallFailedException { IsTransient: true } transient => transient.RetryAfter ?? DefaultRetryAfter,
            BudgetExhaustedException budget => budget.Exhausted.ResetsAt - now,
            _ => (TimeSpan?)null,
        };
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return TypedResults.Problem(problem).ExecuteAsync(httpContext);
    }

    /// <summary>429: whose budget, which window, and when it resets (when a retry can succeed).</summary>
    private static ProblemDetails BudgetProblem(BudgetExhausted exhausted)
    {
        var window = exhausted.Window.LabelValue();
        var resetsAt = exhausted.ResetsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var detail = exhausted.ExhaustedBudget == BudgetOptions.AllTenants
            ? $"The global {window} budget (all tenants) is exhausted: queries of tenant '{exhausted.Tenant}' are refused until it resets at {resetsAt}."
            : $"Tenant '{exhausted.Tenant}' has exhausted its {window} budget: its queries are refused until it resets at {resetsAt}.";
        var problem = Problem(StatusCodes.Status429TooManyRequests, "Budget exhausted", detail);
        problem.Type = BudgetExhaustedType;
        problem.Extensions["tenant"] = exhausted.Tenant;
        problem.Extensions["window"] = window;
        problem.Extensions["budget"] = exhausted.ExhaustedBudget;
        problem.Extensions["resetsAt"] = resetsAt;
        return problem;
    }

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };
}
