using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Input;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Batches;

/// <summary>
/// Submits a batch: validates every question, stores the questions and then the batch row (written last, so a
/// half-written batch does not exist), then enqueues one message per question that names only the batch and index.
/// The submitting tenant is stored on the batch row, not on the messages: whoever can write to the queue cannot choose
/// whose spend a question is.
/// </summary>
public sealed partial class BatchSubmission(
    BatchStore store,
    QueryValidator validator,
    RagPipeline pipeline,
    IOptions<RagOptions> ragOptions,
    IOptions<StorageOptions> storageOptions,
    TimeProvider time,
    ILogger<BatchSubmission> logger)
{
    /// <summary>
    /// Reads the batch (<paramref name="read"/>: e.g. its HTTP body) and validates it as the pipeline admits it, so a
    /// rejected submission counts once as an invalid query; then stores and enqueues it.
    /// </summary>
    public async Task<BatchAccepted> SubmitAsync(QueryOrigin origin, string tenant, Func<CancellationToken, Task<BatchRequest>> read, CancellationToken cancellationToken)
    {
        var (questions, domain) = await pipeline.AdmitAsync(origin, tenant, async token => Validate(await read(token)), cancellationToken);
        await store.EnsureCreatedAsync(cancellationToken);
        var batchId = BatchIds.New();
        await store.AddBatchAsync(batchId, questions, new SubmittedBatch(questions.Length, domain, time.GetUtcNow(), tenant), cancellationToken);

        // Once the batch row exists, every message must be sent: a client that disconnects (or a pod shutting down)
        // part-way must not leave a batch that can never reach done. So the enqueue ignores the request's cancellation.
        await Parallel.ForEachAsync(
            Enumerable.Range(0, questions.Length),
            new ParallelOptions { MaxDegreeOfParallelism = storageOptions.Value.EnqueueConcurrency, CancellationToken = CancellationToken.None },
            async (i, ct) => await store.EnqueueAsync(new BatchMessage(batchId, i), ct));

        Log.BatchSubmitted(logger, batchId, questions.Length);
        return new BatchAccepted(batchId, questions.Length);
    }

    /// <summary>Every question normalized and the canonical domain, or every problem in one <see cref="InvalidRequestException"/>.</summary>
    private (string[] Questions, string? Domain) Validate(BatchRequest request)
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
        return (validated, domain);
    }
}
