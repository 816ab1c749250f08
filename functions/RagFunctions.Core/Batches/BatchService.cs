using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Batches;

/// <summary>Submit a batch (table row + one queue message per question), process one message, report status.</summary>
public sealed partial class BatchService(
    BatchStorage storage,
    RagPipeline pipeline,
    QueryValidator validator,
    RagMetrics metrics,
    IOptions<RagOptions> ragOptions,
    IOptions<StorageOptions> storageOptions,
    TimeProvider time,
    ILogger<BatchService> logger)
{
    private const int MaxPageSize = 200;
    private const int MaxStoredChars = 30_000;
    private const int MaxCachedBatches = 10_000;

    // Batch id → question count; a batch row never changes once written, so one read per batch per process.
    private readonly ConcurrentDictionary<string, int> _batchCounts = new(StringComparer.Ordinal);

    public async Task<BatchAccepted> SubmitAsync(BatchRequest request, CancellationToken cancellationToken)
    {
        var questions = request.Questions;
        if (questions is null || questions.Count == 0)
        {
            throw InvalidRequestException.BadRequest("'questions' must be a non-empty array of strings.");
        }

        var max = ragOptions.Value.MaxBatchQuestions;
        if (questions.Count > max)
        {
            throw InvalidRequestException.BadRequest($"'questions' has {questions.Count} items; the limit is {max}.");
        }

        var domain = validator.CanonicalDomain(request.Domain);
        // Every question is validated before anything is written: a batch is accepted whole or not at all.
        var validated = new string[questions.Count];
        for (var i = 0; i < questions.Count; i++)
        {
            validated[i] = validator.Validate(questions[i], null, $"questions[{i}]").Question;
        }

        await storage.EnsureCreatedAsync(cancellationToken);
        var batchId = Guid.NewGuid().ToString("N");
        await storage.Batches.AddEntityAsync(new BatchEntity
        {
            PartitionKey = batchId,
            Count = questions.Count,
            Domain = domain,
            SubmittedAt = time.GetUtcNow(),
        }, cancellationToken);

        await Parallel.ForEachAsync(
            Enumerable.Range(0, validated.Length),
            new ParallelOptions { MaxDegreeOfParallelism = storageOptions.Value.EnqueueConcurrency, CancellationToken = cancellationToken },
            async (i, ct) => await storage.Queue.SendMessageAsync(
                JsonSerializer.Serialize(new BatchMessage(batchId, i, validated[i], domain), BatchJsonContext.Default.BatchMessage), ct));

        Log.BatchSubmitted(logger, batchId, questions.Count);
        return new BatchAccepted(batchId, questions.Count);
    }

    /// <summary>
    /// Answers one queued question and writes its result row once. A redelivered message whose row exists is not
    /// answered again; a concurrent duplicate is answered (and metered: that spend is real) but writes no second row.
    /// Transient model failures are rethrown so the queue retries and, after maxDequeueCount, poisons the message.
    /// </summary>
    public async Task ProcessAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        var message = Parse(messageText);
        await storage.EnsureCreatedAsync(cancellationToken);
        if (!await BelongsToABatchAsync(message, cancellationToken))
        {
            // A forged or stale message must not spend a model call; it is retried to the poison queue and dead-lettered there.
            throw Invalid("unknown batch or index out of range");
        }

        var rowKey = ResultEntity.RowKeyOf(message.Index);
        if (await ResultExistsAsync(message.BatchId, rowKey, cancellationToken))
        {
            Log.AlreadyAnswered(logger, message.BatchId, message.Index);
            return;
        }

        var result = new ResultEntity
        {
            PartitionKey = message.BatchId,
            RowKey = rowKey,
            Index = message.Index,
            Question = Truncate(message.Question),
            DequeueCount = (int)Math.Min(dequeueCount, int.MaxValue),
        };

        try
        {
            var answer = await pipeline.AnswerAsync(new RagQuery(message.Question, message.Domain), QueryTrigger.Queue, cancellationToken);
            result.Answer = Truncate(answer.Answer);
            result.Model = answer.Model;
            result.InputTokens = answer.Usage.InputTokens;
            result.OutputTokens = answer.Usage.OutputTokens;
            result.CacheReadTokens = answer.Usage.CacheReadTokens;
            result.CacheWriteTokens = answer.Usage.CacheWriteTokens;
            result.CostUsd = answer.CostUsd.ToString(CultureInfo.InvariantCulture);
            result.LatencyMs = answer.LatencyMs.Total;
        }
        catch (Exception ex) when (ex is InvalidRequestException or ModelCallFailedException { IsTransient: false })
        {
            // Retrying cannot help: record the failure so the batch completes.
            if (ex is InvalidRequestException)
            {
                metrics.CountRequest(QueryTrigger.Queue, QueryOutcome.Invalid);
            }

            result.Status = ResultStatus.Failed;
            result.Model = pipeline.ModelId;
            result.Error = ex.Message;
        }

        result.CompletedAt = time.GetUtcNow();
        if (!await BatchStorage.TryInsertAsync(storage.Results, result, cancellationToken))
        {
            Log.DuplicateResult(logger, message.BatchId, message.Index);
        }
    }

    /// <summary>Records a message the host moved to the poison queue, so it shows as failed and is never lost.</summary>
    public async Task RecordPoisonAsync(string messageText, long dequeueCount, CancellationToken cancellationToken)
    {
        metrics.PoisonMessages.Inc();
        await storage.EnsureCreatedAsync(cancellationToken);
        BatchMessage message;
        try
        {
            message = Parse(messageText);
        }
        catch (InvalidQueueMessageException ex)
        {
            await DeadLetterAsync(messageText, ex.Message, cancellationToken);
            return;
        }

        if (!await BelongsToABatchAsync(message, cancellationToken))
        {
            await DeadLetterAsync(messageText, "Invalid queue message: unknown batch or index out of range.", cancellationToken);
            return;
        }

        var inserted = await BatchStorage.TryInsertAsync(storage.Results, new ResultEntity
        {
            PartitionKey = message.BatchId,
            RowKey = ResultEntity.RowKeyOf(message.Index),
            Index = message.Index,
            Question = Truncate(message.Question),
            Status = ResultStatus.Failed,
            Model = pipeline.ModelId,
            Error = "The question failed on every delivery and was moved to the poison queue.",
            DequeueCount = (int)Math.Min(dequeueCount, int.MaxValue),
            CompletedAt = time.GetUtcNow(),
        }, cancellationToken);
        Log.Poisoned(logger, message.BatchId, message.Index, inserted);
    }

    public async Task<BatchStatusView> GetStatusAsync(string batchId, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        if (!Guid.TryParseExact(batchId, "N", out _))
        {
            throw new BatchNotFoundException(batchId);
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            throw InvalidRequestException.BadRequest($"'pageSize' must be between 1 and {MaxPageSize}.");
        }

        await storage.EnsureCreatedAsync(cancellationToken);
        var batch = await storage.Batches.GetEntityIfExistsAsync<BatchEntity>(batchId, BatchEntity.Row, cancellationToken: cancellationToken);
        if (!batch.HasValue || batch.Value is null)
        {
            throw new BatchNotFoundException(batchId);
        }

        int succeeded = 0, failed = 0;
        decimal cost = 0;
        await foreach (var row in storage.Results.QueryAsync<ResultEntity>(
            r => r.PartitionKey == batchId, select: [nameof(ResultEntity.Status), nameof(ResultEntity.CostUsd)], cancellationToken: cancellationToken))
        {
            if (row.Status == ResultStatus.Succeeded)
            {
                succeeded++;
            }
            else
            {
                failed++;
            }

            cost += decimal.Parse(row.CostUsd, CultureInfo.InvariantCulture);
        }

        var page = new List<BatchResultView>(pageSize);
        string? next = null;
        try
        {
            await foreach (var p in storage.Results.QueryAsync<ResultEntity>(r => r.PartitionKey == batchId, maxPerPage: pageSize, cancellationToken: cancellationToken)
                               .AsPages(continuationToken, pageSize))
            {
                page.AddRange(p.Values.Select(ToView));
                next = p.ContinuationToken;
                break;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 400)
        {
            throw InvalidRequestException.BadRequest("'continuationToken' is not valid for this batch.");
        }

        var count = batch.Value.Count;
        var completed = succeeded + failed;
        var state = completed == 0 ? BatchStates.Queued : completed >= count ? BatchStates.Done : BatchStates.Running;
        return new BatchStatusView(batchId, state, count, completed, succeeded, failed, cost, batch.Value.SubmittedAt, page, next);
    }

    private static BatchResultView ToView(ResultEntity r) => new(
        r.Index, r.Status, r.Question, r.Answer, r.Error, r.Model, r.InputTokens, r.OutputTokens, r.CacheReadTokens, r.CacheWriteTokens,
        decimal.Parse(r.CostUsd, CultureInfo.InvariantCulture), r.LatencyMs);

    private async Task DeadLetterAsync(string messageText, string reason, CancellationToken cancellationToken)
    {
        await BatchStorage.TryInsertAsync(storage.DeadLetters, new DeadLetterEntity
        {
            PartitionKey = time.GetUtcNow().ToString("yyyyMMdd", CultureInfo.InvariantCulture),
            RowKey = Guid.NewGuid().ToString("N"),
            Content = Truncate(messageText) ?? string.Empty,
            Reason = reason,
        }, cancellationToken);
        Log.DeadLettered(logger, reason);
    }

    private async Task<bool> BelongsToABatchAsync(BatchMessage message, CancellationToken cancellationToken)
    {
        if (!_batchCounts.TryGetValue(message.BatchId, out var count))
        {
            var batch = await storage.Batches.GetEntityIfExistsAsync<BatchEntity>(
                message.BatchId, BatchEntity.Row, [nameof(BatchEntity.Count)], cancellationToken);
            if (!batch.HasValue || batch.Value is null)
            {
                return false;
            }

            if (_batchCounts.Count >= MaxCachedBatches)
            {
                _batchCounts.Clear();
            }

            count = _batchCounts.GetOrAdd(message.BatchId, batch.Value.Count);
        }

        return message.Index < count;
    }

    private async Task<bool> ResultExistsAsync(string batchId, string rowKey, CancellationToken cancellationToken)
    {
        var existing = await storage.Results.GetEntityIfExistsAsync<ResultEntity>(batchId, rowKey, [nameof(ResultEntity.Status)], cancellationToken);
        return existing.HasValue;
    }

    private BatchMessage Parse(string messageText)
    {
        BatchMessage? message;
        try
        {
            message = JsonSerializer.Deserialize(messageText, BatchJsonContext.Default.BatchMessage);
        }
        catch (JsonException ex)
        {
            throw Invalid($"not JSON ({ex.Message})");
        }

        if (message is null || !Guid.TryParseExact(message.BatchId, "N", out _))
        {
            throw Invalid("missing or malformed batchId");
        }

        if (message.Index < 0 || string.IsNullOrWhiteSpace(message.Question))
        {
            throw Invalid("missing question or negative index");
        }

        return message;
    }

    private InvalidQueueMessageException Invalid(string reason)
    {
        metrics.CountRequest(QueryTrigger.Queue, QueryOutcome.Invalid);
        Log.InvalidMessage(logger, reason);
        return new InvalidQueueMessageException($"Invalid queue message: {reason}.");
    }

    private static string? Truncate(string? text) => text is { Length: > MaxStoredChars } ? text[..MaxStoredChars] : text;

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Batch {BatchId} submitted with {Count} questions")]
        public static partial void BatchSubmitted(ILogger logger, string batchId, int count);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Batch {BatchId} question {Index} was already answered; redelivery skipped")]
        public static partial void AlreadyAnswered(ILogger logger, string batchId, int index);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Batch {BatchId} question {Index} was answered twice concurrently; the second row was not written")]
        public static partial void DuplicateResult(ILogger logger, string batchId, int index);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Rejected queue message: {Reason}")]
        public static partial void InvalidMessage(ILogger logger, string reason);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Poison message for batch {BatchId} question {Index} recorded as failed (new row: {Inserted})")]
        public static partial void Poisoned(ILogger logger, string batchId, int index, bool inserted);

        [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Unparseable poison message kept in the dead-letter table: {Reason}")]
        public static partial void DeadLettered(ILogger logger, string reason);
    }
}
