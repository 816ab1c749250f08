using Microsoft.Azure.Functions.Worker;

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
