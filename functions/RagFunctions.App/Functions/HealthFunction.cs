using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Functions;

/// <summary>
/// GET /api/health, anonymous: the pods' readiness probe. It answers only once the worker has started, which it does
/// only after every option validated (ValidateOnStart), and once the pipeline is built: resolving it here builds the
/// Lucene index and the model client, so a composition that cannot be built fails this call instead of answering.
/// </summary>
public sealed class HealthFunction
{
    // Instance method on purpose: the worker creates the class, and so resolves the pipeline, only for instance methods.
    public HealthFunction(RagPipeline pipeline) => ArgumentNullException.ThrowIfNull(pipeline);

    [Function(nameof(HealthFunction))]
    public IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        TypedResults.Text("ready");
}
