using Microsoft.Azure.Functions.Worker;
using RagFunctions.App.Functions;

namespace RagFunctions.App.Middleware;

/// <summary>The worker middleware, outermost first, with the invocations each applies to. Program.cs and the test host use this list.</summary>
public static class RagMiddleware
{
    public static readonly IReadOnlyList<MiddlewareStep> Steps =
    [
        // Outermost for queue invocations: push after metering recorded the invocation, before the host completes the message.
        new(typeof(PushAfterQueueInvocationMiddleware), context => TriggerOf(context) == "queue"),
        new(typeof(ProblemDetailsMiddleware), context => TriggerOf(context) == "http"),
        new(typeof(InvocationMeteringMiddleware), _ => true),
    ];

    /// <summary>
    /// The HTTP functions whose requests are queries: a question, or a batch of them. Only their rejected requests count
    /// in rag_requests_total; a rejected status read or health call is not a query and shows only in the function metrics.
    /// </summary>
    public static readonly IReadOnlySet<string> QueryFunctions = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(QueryFunction),
        nameof(SubmitBatchFunction),
    };

    /// <summary>"http", "queue" or "other", from the function's trigger binding (bounded: it comes from our own attributes).</summary>
    public static string TriggerOf(FunctionContext context)
    {
        foreach (var binding in context.FunctionDefinition.InputBindings.Values)
        {
            if (binding.Type.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase))
            {
                return "http";
            }

            if (binding.Type.Equals("queueTrigger", StringComparison.OrdinalIgnoreCase))
            {
                return "queue";
            }
        }

        return "other";
    }
}

public sealed record MiddlewareStep(Type Type, Func<FunctionContext, bool> AppliesTo);
