using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Functions;

/// <summary>GET /api/batches/{id}?pageSize=&amp;continuationToken=: status, counts and a page of results.</summary>
public sealed class BatchStatusFunction(BatchService batches)
{
    private const int DefaultPageSize = 50;

    [Function(nameof(BatchStatusFunction))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "batches/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var pageSize = DefaultPageSize;
        if (request.Query.TryGetValue("pageSize", out var raw) && !int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize))
        {
            throw InvalidRequestException.BadRequest("'pageSize' must be a positive integer.");
        }

        string? token = request.Query.TryGetValue("continuationToken", out var t) ? t.ToString() : null;
        return TypedResults.Ok(await batches.GetStatusAsync(id, pageSize, token, cancellationToken));
    }
}
