using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Input;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Batches;

/// <summary>
/// Submits a batch: validates every question, stores the questions and then the batch row (written last, so a
/// half-written batch does not exist), then enqueues one message per question that names only the batch and index.
/// </summary>
public sealed partial class BatchSubmission(
    BatchStorage storage,
    QueryValidator validator,
    IOptions<RagOptions> ragOptions,
    IOptions<StorageOptions> storageOptions,
    TimeProvider time,
    ILogger<BatchSubmission> logger)
{
    public async Task<BatchAccepted> SubmitAsync(BatchRequest request, CancellationToken cancellationToken)
    {
        var errors = new InputErrors();
        var questions = request.Questions;
        var max = ragOptions.Value.MaxBatchQuestions;
        if (questions is null || questions.Count == 0)
        {
            errors.Add("questions", "'questions' must be a non-empty array of strings.");
        }
        else if (questions.Count > max)
        {
            errors.Add("questions", $"'questions' has {questions.Count} items; the limit is {max}.");
        }

        var domain = validator.Domain(request.Domain, "domain", errors);
        errors.ThrowIfAny();

        // Every question is validated before anything is written: a batch is accepted whole or not at all.
        var validated = new string[questions!.Count];
        for (var i = 0; i < questions.Count; i++)
        {
            validated[i] = validator.Question(questions[i], $"questions[{i}]", errors)!;
        }

        errors.ThrowIfAny();
        await storage.EnsureCreatedAsync(cancellationToken);
        var batchId = BatchIds.New();
        await BatchQuestions.WriteAsync(storage.Batches, batchId, validated, cancellationToken);
        await storage.Batches.AddEntityAsync(new BatchEntity
        {
            PartitionKey = batchId,
            Count = questions.Count,
            Domain = domain,
            SubmittedAt = time.GetUtcNow(),
        }, cancellationToken);

        // Once the batch row exists, every message must be sent: a client that disconnects (or a pod shutting down)
        // part-way must not leave a batch that can never reach done. So the enqueue ignores the request's cancellation.
        await Parallel.ForEachAsync(
            Enumerable.Range(0, validated.Length),
            new ParallelOptions { MaxDegreeOfParallelism = storageOptions.Value.EnqueueConcurrency, CancellationToken = CancellationToken.None },
            async (i, ct) => await storage.Queue.SendMessageAsync(new BinaryData(new BatchMessage(batchId, i).ToUtf8()), cancellationToken: ct));

        Log.BatchSubmitted(logger, batchId, questions.Count);
        return new BatchAccepted(batchId, questions.Count);
    }
}
