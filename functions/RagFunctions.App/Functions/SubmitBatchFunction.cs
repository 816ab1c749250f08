using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using RagFunctions.App.Http;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Functions;

/// <summary>POST /api/batches: enqueues one message per question and answers 202 with the status URL.</summary>
public sealed class SubmitBatchFunction(BatchSubmission submission, JsonBodyReader reader, RequestTenant tenant)
{
    [Function(nameof(SubmitBatchFunction))]
    public async Task<IResult> Run(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "batches")] HttpRequest request, CancellationToken cancellationToken)
    {
        var accepted = await submission.SubmitAsync(
            QueryOrigin.Http, tenant.Of(request), token => reader.ReadAsync(request, BatchRequestBody.Members, BatchRequestBody.Read, token), cancellationToken);
        var statusUrl = $"/api/batches/{accepted.BatchId}";
        return TypedResults.Accepted(statusUrl, new BatchAcceptedBody(accepted.BatchId, accepted.Count, statusUrl));
    }
}
