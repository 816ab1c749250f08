using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using RagFunctions.Core.Metrics;

namespace RagFunctions.App.Middleware;

/// <summary>Meters every invocation of every function: function, trigger, outcome, duration.</summary>
public sealed class InvocationMeteringMiddleware(RagMetrics metrics) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var meters = metrics.ForFunction(context.FunctionDefinition.Name, RagMiddleware.TriggerOf(context));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
            meters.Succeeded.Inc();
        }
        catch
        {
            meters.Failed.Inc();
            throw;
        }
        finally
        {
            meters.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
