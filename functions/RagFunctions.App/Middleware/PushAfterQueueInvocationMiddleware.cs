using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using RagFunctions.Core.Metrics.Push;

namespace RagFunctions.App.Middleware;

/// <summary>
/// Pushes the registry after each queue invocation, before the host completes (deletes) the message, so a pod
/// that dies right after its last message has already delivered that message's spend. The push is bounded by
/// its own timeout and never fails the invocation.
/// </summary>
public sealed class PushAfterQueueInvocationMiddleware(MetricsPusher pusher) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        try
        {
            await next(context);
        }
        finally
        {
            await pusher.PushAsync(CancellationToken.None);
        }
    }
}
