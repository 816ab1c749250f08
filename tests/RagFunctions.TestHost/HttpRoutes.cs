using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.App.Functions;

namespace RagFunctions.TestHost;

/// <summary>The app's HTTP routes (as in functions.metadata, which a build-output test checks) mapped to the function classes.</summary>
internal static class HttpRoutes
{
    public static Route? Match(string method, string path)
    {
        var segments = path.Trim('/').Split('/');
        return (method.ToUpperInvariant(), segments) switch
        {
            ("POST", ["api", "query"]) => new Route(nameof(QueryFunction),
                (sp, request, ct) => ActivatorUtilities.CreateInstance<QueryFunction>(sp).Run(request, ct)),
            ("POST", ["api", "batches"]) => new Route(nameof(SubmitBatchFunction),
                (sp, request, ct) => ActivatorUtilities.CreateInstance<SubmitBatchFunction>(sp).Run(request, ct)),
            ("GET", ["api", "batches", var id]) => new Route(nameof(BatchStatusFunction),
                (sp, request, ct) => ActivatorUtilities.CreateInstance<BatchStatusFunction>(sp).Run(request, id, ct)),
            ("GET", ["api", "health"]) => new Route(nameof(HealthFunction),
                (sp, request, _) => Task.FromResult(ActivatorUtilities.CreateInstance<HealthFunction>(sp).Run(request))),
            _ => null,
        };
    }

    public sealed record Route(string Function, Func<IServiceProvider, HttpRequest, CancellationToken, Task<IResult>> Invoke);
}
