using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Options;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Batches;

/// <summary>
/// The batch path's queue and tables, created on first use, and the one place that maps between their entities and the
/// records submission, processing and status work with (<see cref="SubmittedBatch"/>, <see cref="BatchResult"/>): the
/// cost's decimal ↔ invariant text, the row keys and the stored-text limit live here.
/// </summary>
public sealed class BatchStore
{
    /// <summary>Longest text stored in a result or dead-letter property: Table storage holds 32K UTF-16 code units per string.</summary>
    private const int MaxStoredChars = 30_000;

    private readonly Lock _gate = new();
    private readonly QueueClient _queue;
    private readonly TableClient _batches;
    private readonly TableClient _results;
    private readonly TableClient _deadLetters;
    private Task? _created;

    public BatchStore(IOptions<StorageOptions> options)
    {
        var o = options.Value;
        // The Functions queue trigger decodes base64 by default (host.json messageEncoding), so send base64.
        _queue = new QueueClient(o.ConnectionString, StorageOptions.QueryQueue,
            new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var tables = new TableServiceClient(o.ConnectionString);
        _batches = tables.GetTableClient(o.BatchTable);
        _results = tables.GetTableClient(o.ResultTable);
        _deadLetters = tables.GetTableClient(o.DeadLetterTable);
    }

    /// <summary>
    /// Where <see cref="BatchRowClaims"/> keeps claims: the result table, in the batch's partition, so a result insert
    /// and its claim's delete go in one transaction. Readers of results skip claim rows (<see cref="ClaimEntity.RowKeyOf"/>).
    /// </summary>
    internal TableClient Claims => _results;

    /// <summary>Creates the queue and tables once per process; a failed attempt is retried on the next call.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_created is null || _created.IsFaulted || _created.IsCanceled)
            {
                _created = CreateAsync(cancellationToken);
            }

            return _created;
        }
    }

    /// <summary>
    /// Stores a batch: its questions first, then the batch row. Until the row exists the batch does not, so a half-written
    /// batch is never read or processed.
    /// </summary>
    public async Task AddBatchAsync(string batchId, IReadOnlyList<string> questions, SubmittedBatch batch, CancellationToken cancellationToken)
    {
        await BatchQuestions.WriteAsync(_batches, batchId, questions, cancellationToken);
        await _batches.AddEntityAsync(new BatchEntity
        {
            PartitionKey = batchId,
            Count = batch.Count,
            Domain = batch.Domain,
            SubmittedAt = batch.SubmittedAt,
            Tenant = batch.Tenant,
        }, cancellationToken);
    }

    public Task EnqueueAsync(BatchMessage message, CancellationToken cancellationToken) =>
        _queue.SendMessageAsync(new BinaryData(message.ToUtf8()), cancellationToken: cancellationToken);

    /// <summary>
    /// Sends the message again, hidden for <paramref name="hiddenFor"/> (under 7 days) and never expiring: the default
    /// time-to-live is 7 days, so a message hidden nearly that long would expire before it reappears and be lost.
    /// </summary>
    public Task EnqueueHiddenAsync(BatchMessage message, TimeSpan hiddenFor, CancellationToken cancellationToken) =>
        _queue.SendMessageAsync(new BinaryData(message.ToUtf8()), hiddenFor, timeToLive: TimeSpan.FromSeconds(-1), cancellationToken);

    /// <summary>Records that a question was deferred unless that is recorded already (once per question); false when it was.</summary>
    public Task<bool> TryAddDeferralAsync(string batchId, int index, BudgetExhausted exhausted, DateTimeOffset at, CancellationToken cancellationToken) =>
        TryInsertAsync(_results, new DeferralEntity
        {
            PartitionKey = batchId,
            RowKey = DeferralEntity.RowKeyOf(index),
            Index = index,
            Tenant = exhausted.Tenant,
            ExhaustedBudget = exhausted.ExhaustedBudget,
            Window = exhausted.Window.LabelValue(),
            DeferredUntil = exhausted.ResetsAt,
            DeferredAt = at,
        }, cancellationToken);

    /// <summary>The batch row, or null when no batch has this id.</summary>
    public async Task<SubmittedBatch?> FindBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        var row = await _batches.GetEntityIfExistsAsync<BatchEntity>(
            batchId, BatchEntity.Row, [nameof(BatchEntity.Count), nameof(BatchEntity.Domain), nameof(BatchEntity.SubmittedAt), nameof(BatchEntity.Tenant)], cancellationToken);
        return row.HasValue && row.Value is { } batch
            ? new SubmittedBatch(batch.Count, batch.Domain, batch.SubmittedAt, batch.Tenant ?? BudgetOptions.DefaultTenant)
            : null;
    }

    /// <summary>The question at <paramref name="index"/> of the batch as submitted, or null when the batch stores none there.</summary>
    public Task<string?> FindQuestionAsync(string batchId, int index, CancellationToken cancellationToken) =>
        BatchQuestions.ReadAsync(_batches, batchId, index, cancellationToken);

    public async Task<bool> ResultExistsAsync(string batchId, int index, CancellationToken cancellationToken)
    {
        var existing = await _results.GetEntityIfExistsAsync<ResultEntity>(batchId, ResultEntity.RowKeyOf(index), [nameof(ResultEntity.Status)], cancellationToken);
        return existing.HasValue;
    }

    /// <summary>
    /// Writes the question's result row unless it exists, stamped with <paramref name="writtenBy"/> (the claim's owner,
    /// if any); false when another writer's row is there first. An existing row that carries this writer's own stamp is
    /// its write committed by an earlier attempt (a transaction the SDK retried after it succeeded), so it counts as
    /// written: true.
    /// </summary>
    public async Task<bool> TryAddResultAsync(string batchId, BatchResult result, string? writtenBy, CancellationToken cancellationToken)
    {
        if (await TryInsertAsync(_results, EntityOf(batchId, result, writtenBy), cancellationToken))
        {
            return true;
        }

        if (writtenBy is null)
        {
            return false;
        }

        var existing = await _results.GetEntityIfExistsAsync<ResultEntity>(batchId, ResultEntity.RowKeyOf(result.Index), [nameof(ResultEntity.WrittenBy)], cancellationToken);
        return existing.HasValue && existing.Value?.WrittenBy == writtenBy;
    }

    internal static ResultEntity EntityOf(string batchId, BatchResult result, string? writtenBy) =>
        new()
        {
            PartitionKey = batchId,
            RowKey = ResultEntity.RowKeyOf(result.Index),
            Index = result.Index,
            Status = result.Status,
            Question = Truncate(result.Question),
            Answer = Truncate(result.Answer),
            Error = result.Error,
            Model = result.Model,
            InputTokens = result.Usage.Input,
            OutputTokens = result.Usage.Output,
            CacheReadTokens = result.Usage.CacheRead,
            CacheWriteTokens = result.Usage.CacheWrite,
            CostUsd = result.CostUsd.ToString(CultureInfo.InvariantCulture),
            LatencyMs = result.LatencyMs,
            DequeueCount = result.DequeueCount,
            CompletedAt = result.CompletedAt,
            WrittenBy = writtenBy,
        };

    /// <summary>
    /// Keeps a poison message that names no question whole, keyed by its message id so a redelivery finds its row;
    /// false when that row exists.
    /// </summary>
    public Task<bool> TryAddDeadLetterAsync(string messageId, ReadOnlyMemory<byte> content, string reason, DateTimeOffset recordedAt, CancellationToken cancellationToken) =>
        TryInsertAsync(_deadLetters, new DeadLetterEntity
        {
            PartitionKey = StorageOptions.PoisonQueue,
            RowKey = messageId,
            Content = Truncate(Encoding.UTF8.GetString(content.Span)) ?? string.Empty,
            Reason = Truncate(reason) ?? string.Empty,
            RecordedAt = recordedAt,
        }, cancellationToken);

    /// <summary>Every result of the batch with its index, status and cost only: what the counts of a status read need.</summary>
    public IAsyncEnumerable<BatchResult> ScanResultsAsync(string batchId, CancellationToken cancellationToken) =>
        ResultsAsync(_results.QueryAsync<ResultEntity>(
            ResultEntity.FilterOf(batchId), select: [nameof(ResultEntity.Index), nameof(ResultEntity.Status), nameof(ResultEntity.CostUsd)],
            cancellationToken: cancellationToken));

    /// <summary>The whole results of the batch from index <paramref name="first"/> to <paramref name="last"/>, both included.</summary>
    public IAsyncEnumerable<BatchResult> ReadResultsAsync(string batchId, int first, int last, CancellationToken cancellationToken) =>
        ResultsAsync(_results.QueryAsync<ResultEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {batchId} and RowKey ge {ResultEntity.RowKeyOf(first)} and RowKey le {ResultEntity.RowKeyOf(last)}"),
            cancellationToken: cancellationToken));

    private static async IAsyncEnumerable<BatchResult> ResultsAsync(AsyncPageable<ResultEntity> rows, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var r in rows.WithCancellation(cancellationToken))
        {
            yield return new BatchResult(
                r.Index, r.Status, r.Question, r.Answer, r.Error, r.Model,
                new TokenUsage(r.InputTokens, r.OutputTokens, r.CacheReadTokens, r.CacheWriteTokens),
                decimal.Parse(r.CostUsd, CultureInfo.InvariantCulture), r.LatencyMs, r.DequeueCount, r.CompletedAt);
        }
    }

    private async Task CreateAsync(CancellationToken cancellationToken)
    {
        await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await _batches.CreateIfNotExistsAsync(cancellationToken);
        await _results.CreateIfNotExistsAsync(cancellationToken);
        await _deadLetters.CreateIfNotExistsAsync(cancellationToken);
    }

    /// <summary>Inserts <paramref name="entity"/> unless a row with its keys exists; returns false on a duplicate.</summary>
    private static async Task<bool> TryInsertAsync<T>(TableClient table, T entity, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    private static string? Truncate(string? text) => text is { Length: > MaxStoredChars } ? text[..MaxStoredChars] : text;
}

/// <summary>
/// A submitted batch: how many questions it has, the domain they are answered in, when it was submitted, and the tenant
/// that submitted it (whose spend its questions are; a batch stored before tenants were recorded is <c>default</c>'s).
/// </summary>
public sealed record SubmittedBatch(int Count, string? Domain, DateTimeOffset SubmittedAt, string Tenant);

/// <summary>
/// The result of one question of a batch: answered (<see cref="ResultStatus.Succeeded"/>) with its answer, usage, exact
/// cost and latency, or failed with its error. Written once, by whichever delivery settles the question.
/// </summary>
public sealed record BatchResult(
    int Index, string Status, string? Question, string? Answer, string? Error, string? Model,
    TokenUsage Usage, decimal CostUsd, double LatencyMs, int DequeueCount, DateTimeOffset CompletedAt)
{
    /// <summary>The one mapping from the pipeline's answer to a result.</summary>
    public static BatchResult Answered(int index, string question, RagAnswer answer, int dequeueCount, DateTimeOffset completedAt) =>
        new(index, ResultStatus.Succeeded, question, answer.Answer, null, answer.Model, answer.Usage, answer.CostUsd, answer.LatencyMs.Total, dequeueCount, completedAt);

    public static BatchResult Failed(int index, string question, string model, string error, int dequeueCount, DateTimeOffset completedAt) =>
        new(index, ResultStatus.Failed, question, null, error, model, default, 0m, 0, dequeueCount, completedAt);
}
