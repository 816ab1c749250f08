using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RagFunctions.App.Http;
using RagFunctions.App.Middleware;
using RagFunctions.Core;
using RagFunctions.Core.Metrics.Push;

namespace RagFunctions.App;

/// <summary>The one composition root: Program.cs and the tests' in-process host both start here.</summary>
public static class RagFunctionsComposition
{
    public static IServiceCollection AddRagFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRagPipeline(configuration);
        services.AddMetricsPusher();
        services.AddSingleton<JsonBodyReader>();
        services.AddSingleton<RequestTenant>();
        foreach (var step in RagMiddleware.Steps)
        {
            services.AddSingleton(step.Type);
        }

        return services;
    }

    /// <summary>Registers <see cref="RagMiddleware.Steps"/> in order, outermost first.</summary>
    public static IFunctionsWorkerApplicationBuilder UseRagMiddleware(this IFunctionsWorkerApplicationBuilder builder)
    {
        foreach (var step in RagMiddleware.Steps)
        {
            var predicate = step.AppliesTo;
            var type = step.Type;
            builder.UseWhen(predicate, (context, next) =>
                ((IFunctionsWorkerMiddleware)context.InstanceServices.GetRequiredService(type)).Invoke(context, _ => next()));
        }

        return builder;
    }
}
