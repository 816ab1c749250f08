using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.App.Http;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Functions;

/// <summary>POST /api/query: one question, answered synchronously.</summary>
public sealed class QueryFunction(RagPipeline pipeline, JsonBodyReader reader, RequestTenant tenant)
{
    [Function(nameof(QueryFunction))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "query")] HttpRequest request, CancellationToken cancellationToken)
    {
        // The pipeline reads the body itself, so a rejected body is one of the query's outcomes, counted where the rest are.
        var answer = await pipeline.AnswerAsync(
            QueryOrigin.Http, tenant.Of(request), token => reader.ReadAsync(request, QueryRequestBody.Members, QueryRequestBody.Read, token), cancellationToken);
        return TypedResults.Ok(QueryAnswerBody.From(answer));
    }
}
