using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.App.Http;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Functions;

/// <summary>POST /api/query: one question, answered synchronously.</summary>
public sealed class QueryFunction(RagPipeline pipeline, JsonBodyReader reader)
{
    [Function(nameof(QueryFunction))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "query")] HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await reader.ReadAsync(request, QueryRequestBody.Members, QueryRequestBody.Read, cancellationToken);
        var answer = await pipeline.AnswerAsync(new RagQuery(body.Question, body.Domain), cancellationToken);
        return TypedResults.Ok(QueryAnswerBody.From(answer));
    }
}
