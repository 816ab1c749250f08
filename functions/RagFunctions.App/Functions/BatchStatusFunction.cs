using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.Core.Batches;

namespace RagFunctions.App.Functions;

/// <summary>GET /api/batches/{id}?pageSize=&amp;continuationToken=: status, counts and a page of results.</summary>
public sealed class BatchStatusFunction(BatchStatusReader statuses)
{
    [Function(nameof(BatchStatusFunction))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "batches/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        // A parameter given twice arrives joined with a comma, which is not a valid value: one meaning per request.
        string? Parameter(string name) => request.Query.TryGetValue(name, out var value) ? value.ToString() : null;
        return TypedResults.Ok(await statuses.ReadAsync(id, Parameter("pageSize"), Parameter(ResultPageToken.Parameter), cancellationToken));
    }
}
