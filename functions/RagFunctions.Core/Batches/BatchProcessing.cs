using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Batches;

/// <summary>Processes one queued question into its result row, and records a poison message; submission is <see cref="BatchSubmission"/>, status <see cref="BatchStatusReader"/>.</summary>
public sealed partial class BatchProcessing(
    BatchStorage storage,
    BatchRowClaims claims,
    RagPipeline pipeline,
    RagMetrics metrics,
    TimeProvider time,
    ILogger<BatchProcessing> logger)
{
    private const string UnknownBatch = "Invalid queue message: unknown batch or index out of range.";
    private const string NoStoredQuestion = "Invalid queue message: the batch stores no question at this index (it was submitted before questions were stored with the batch).";
    private const int MaxStoredChars = 30_000;
    private const int MaxCachedBatches = 10_000;

    // How often a duplicate delivery looks again while another delivery holds the row's claim.
    private static readonly TimeSpan ClaimPollInterval = TimeSpan.FromMilliseconds(250);

    // Batch id → its question count and domain; a batch row never changes once written, so one read per batch per process.
    private readonly ConcurrentDictionary<string, SubmittedBatch> _batches = new(StringComparer.Ordinal);

    /// <summary>
    /// Answers the question a message names, as stored with its batch and in the batch's domain (never anything the
    /// message says), and writes its result row once; the message counts in rag_requests_total once, with its final
    /// outcome, by whichever delivery writes that row. The delivery claims the row before it calls the model
    /// (<see cref="BatchRowClaims"/>): a redelivered message whose row exists is not answered again, and a concurrent
    /// duplicate waits for the claim's owner instead of calling the model too.
    /// A message that cannot be processed (not schema version 2, carrying a question or domain, unknown batch or index,
    /// no stored question) and transient model failures are rethrown, so the queue retries and, after maxDequeueCount,
    /// poisons the message; the poison handler records and counts it.
    /// </summary>
    public async Task ProcessAsync(QueueDelivery delivery, CancellationToken cancellationToken)
    {
        var message = Parse(delivery);
        await storage.EnsureCreatedAsync(cancellationToken);
        var (question, invalid) = await LocateAsync(message, cancellationToken);
        if (question is null)
        {
            // A forged or stale message must not spend a model call.
            Log.InvalidMessage(logger, invalid!.Message);
            throw invalid;
        }

        var rowKey = ResultEntity.RowKeyOf(message.Index);
        var claim = await ClaimAsync(message, rowKey, cancellationToken);
        if (claim is null)
        {
            Log.AlreadyAnswered(logger, message.BatchId, message.Index);
            return;
        }

        try
        {
            await AnswerAsync(delivery, message, question, rowKey, cancellationToken);
        }
        finally
        {
            // Written or failed: either way the next delivery need not wait for the lease.
            await claims.ReleaseAsync(claim);
        }
    }

    /// <summary>
    /// This delivery's claim on the row, or null once the row exists. While another delivery holds a live claim this one
    /// waits, holding its message (the host keeps renewing its lease), and makes no model call: it completes once the
    /// row is written, or takes the claim over when its owner released it or let it expire.
    /// </summary>
    private async Task<ClaimEntity?> ClaimAsync(BatchMessage message, string rowKey, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await ResultExistsAsync(message.BatchId, rowKey, cancellationToken))
            {
                return null;
            }

            if (await claims.TryClaimAsync(message.BatchId, rowKey, cancellationToken) is { } claim)
            {
                // The previous owner may have written the row and released its claim since the look above.
                if (!await ResultExistsAsync(message.BatchId, rowKey, cancellationToken))
                {
                    return claim;
                }

                await claims.ReleaseAsync(claim);
                return null;
            }

            await Task.Delay(ClaimPollInterval, time, cancellationToken);
        }
    }

    private async Task AnswerAsync(QueueDelivery delivery, BatchMessage message, StoredQuestion question, string rowKey, CancellationToken cancellationToken)
    {
        var result = new ResultEntity
        {
            PartitionKey = message.BatchId,
            RowKey = rowKey,
            Index = message.Index,
            Question = Truncate(question.Text),
            DequeueCount = (int)Math.Min(delivery.DequeueCount, int.MaxValue),
        };

        Exception? failure = null;
        try
        {
            var answer = await pipeline.AttemptAsync(new RagQuery(question.Text, question.Domain), cancellationToken);
            result.Answer = Truncate(answer.Answer);
            result.Model = answer.Model;
            result.InputTokens = answer.Usage.Input;
            result.OutputTokens = answer.Usage.Output;
            result.CacheReadTokens = answer.Usage.CacheRead;
            result.CacheWriteTokens = answer.Usage.CacheWrite;
            result.CostUsd = answer.CostUsd.ToString(CultureInfo.InvariantCulture);
            result.LatencyMs = answer.LatencyMs.Total;
        }
        catch (Exception ex) when (ex is InvalidRequestException or ModelCallFailedException { IsTransient: false })
        {
            // Retrying cannot help: record the failure so the batch completes.
            failure = ex;
            result.Status = ResultStatus.Failed;
            result.Model = pipeline.ModelId;
            result.Error = ex.Message;
        }

        result.CompletedAt = time.GetUtcNow();
        if (await BatchStorage.TryInsertAsync(storage.Results, result, cancellationToken))
        {
            pipeline.Completed(QueryOrigin.Queue, failure);
        }
        else
        {
            Log.DuplicateResult(logger, message.BatchId, message.Index);
        }
    }

    /// <summary>
    /// Records a message the host moved to the poison queue, so it is never lost: a failed result row when it names a
    /// question of a batch, else a dead-letter row with its reason. Both are keyed so that a redelivery of the poison
    /// message finds its row, and the message counts once in rag_requests_total and rag_poison_messages_total.
    /// </summary>
    public async Task RecordPoisonAsync(QueueDelivery delivery, CancellationToken cancellationToken)
    {
        await storage.EnsureCreatedAsync(cancellationToken);
        BatchMessage message;
        try
        {
            message = Parse(delivery);
        }
        catch (InvalidQueueMessageException ex)
        {
            await DeadLetterAsync(delivery, ex, cancellationToken);
            return;
        }

        var (question, invalid) = await LocateAsync(message, cancellationToken);
        if (question is null)
        {
            await DeadLetterAsync(delivery, invalid!, cancellationToken);
            return;
        }

        var inserted = await BatchStorage.TryInsertAsync(storage.Results, new ResultEntity
        {
            PartitionKey = message.BatchId,
            RowKey = ResultEntity.RowKeyOf(message.Index),
            Index = message.Index,
            Question = Truncate(question.Text),
            Status = ResultStatus.Failed,
            Model = pipeline.ModelId,
            Error = "The question failed on every delivery and was moved to the poison queue.",
            DequeueCount = (int)Math.Min(delivery.DequeueCount, int.MaxValue),
            CompletedAt = time.GetUtcNow(),
        }, cancellationToken);
        if (inserted)
        {
            metrics.PoisonMessages.Inc();
            pipeline.Poisoned(QueryOrigin.Queue);
        }

        Log.Poisoned(logger, message.BatchId, message.Index, inserted);
    }

    /// <summary>Keeps an unprocessable poison message whole, keyed by its message id, and counts it the first time only.</summary>
    private async Task DeadLetterAsync(QueueDelivery delivery, InvalidQueueMessageException invalid, CancellationToken cancellationToken)
    {
        var reason = invalid.Message;
        var inserted = await BatchStorage.TryInsertAsync(storage.DeadLetters, new DeadLetterEntity
        {
            PartitionKey = StorageOptions.PoisonQueue,
            RowKey = delivery.MessageId,
            Content = Truncate(Encoding.UTF8.GetString(delivery.Body.Span)) ?? string.Empty,
            Reason = Truncate(reason) ?? string.Empty,
            RecordedAt = time.GetUtcNow(),
        }, cancellationToken);
        if (inserted)
        {
            metrics.PoisonMessages.Inc();
            pipeline.Completed(QueryOrigin.Queue, invalid);
        }

        Log.DeadLettered(logger, reason, inserted);
    }

    /// <summary>The question the message names, as submitted with its batch's domain, or null with why it names none.</summary>
    private async Task<(StoredQuestion? Question, InvalidQueueMessageException? Invalid)> LocateAsync(BatchMessage message, CancellationToken cancellationToken)
    {
        if (await FindBatchAsync(message.BatchId, cancellationToken) is not { } batch || message.Index >= batch.Count)
        {
            return (null, new InvalidQueueMessageException(UnknownBatch));
        }

        var text = await BatchQuestions.ReadAsync(storage.Batches, message.BatchId, message.Index, cancellationToken);
        return text is null ? (null, new InvalidQueueMessageException(NoStoredQuestion)) : (new StoredQuestion(text, batch.Domain), null);
    }

    private async Task<SubmittedBatch?> FindBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        if (_batches.TryGetValue(batchId, out var cached))
        {
            return cached;
        }

        var row = await storage.Batches.GetEntityIfExistsAsync<BatchEntity>(
            batchId, BatchEntity.Row, [nameof(BatchEntity.Count), nameof(BatchEntity.Domain)], cancellationToken);
        if (!row.HasValue || row.Value is not { } batch)
        {
            return null;
        }

        if (_batches.Count >= MaxCachedBatches)
        {
            _batches.Clear();
        }

        return _batches.GetOrAdd(batchId, new SubmittedBatch(batch.Count, batch.Domain));
    }

    private async Task<bool> ResultExistsAsync(string batchId, string rowKey, CancellationToken cancellationToken)
    {
        var existing = await storage.Results.GetEntityIfExistsAsync<ResultEntity>(batchId, rowKey, [nameof(ResultEntity.Status)], cancellationToken);
        return existing.HasValue;
    }

    /// <summary>The message, or (logged, not counted: the poison handler counts it once) <see cref="InvalidQueueMessageException"/>.</summary>
    private BatchMessage Parse(QueueDelivery delivery)
    {
        try
        {
            return BatchMessage.Parse(delivery.Body);
        }
        catch (InvalidQueueMessageException ex)
        {
            Log.InvalidMessage(logger, ex.Message);
            throw;
        }
    }

    private sealed record SubmittedBatch(int Count, string? Domain);

    private sealed record StoredQuestion(string Text, string? Domain);

    private static string? Truncate(string? text) => text is { Length: > MaxStoredChars } ? text[..MaxStoredChars] : text;
}
