using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Core.Batches;

/// <summary>Processes one queued question into its result row, and records a poison message; submission is <see cref="BatchSubmission"/>, status <see cref="BatchStatusReader"/>.</summary>
public sealed partial class BatchProcessing(
    BatchStore store,
    BatchRowClaims claims,
    BudgetGate budgets,
    RagPipeline pipeline,
    RagMetrics metrics,
    TimeProvider time,
    ILogger<BatchProcessing> logger)
{
    private const string UnknownBatch = "Invalid queue message: unknown batch or index out of range.";
    private const string NoStoredQuestion = "Invalid queue message: the batch stores no question at this index (it was submitted before questions were stored with the batch).";
    private const int MaxCachedBatches = 10_000;

    // How often a duplicate delivery looks again while another delivery holds the row's claim.
    private static readonly TimeSpan ClaimPollInterval = TimeSpan.FromMilliseconds(250);

    // A queue message can be hidden for less than 7 days; the margin keeps a deferral clear of that limit.
    private static readonly TimeSpan MaxDeferral = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    // Shortest deferral: a reset that has just passed by this process' clock but not by the gate's rows.
    private static readonly TimeSpan MinDeferral = TimeSpan.FromSeconds(1);

    // Batch id → the batch row; it never changes once written, so one read per batch per process.
    private readonly ConcurrentDictionary<string, SubmittedBatch> _batches = new(StringComparer.Ordinal);

    /// <summary>
    /// Answers the question a message names, as stored with its batch and in the batch's domain (never anything the
    /// message says), and writes its result row once; the message counts in rag_requests_total once, with its final
    /// outcome, by whichever delivery writes that row. The delivery claims the row before it calls the model
    /// (<see cref="BatchRowClaims"/>): a redelivered message whose row exists is not answered again, and a concurrent
    /// duplicate waits for the claim's owner instead of calling the model too.
    /// A question of a tenant whose hard limit is reached is not answered now: it is deferred to the window's reset
    /// (<see cref="DeferAsync"/>), before any claim or model call.
    /// A message that cannot be processed (not schema version 2, carrying a question or domain, unknown batch or index,
    /// no stored question) and transient model failures are rethrown, so the queue retries and, after maxDequeueCount,
    /// poisons the message; the poison handler records and counts it.
    /// </summary>
    public async Task ProcessAsync(QueueDelivery delivery, CancellationToken cancellationToken)
    {
        var message = Parse(delivery);
        await store.EnsureCreatedAsync(cancellationToken);
        var (question, invalid) = await LocateAsync(message, cancellationToken);
        if (question is null)
        {
            // A forged or stale message must not spend a model call.
            Log.InvalidMessage(logger, invalid!.Message);
            throw invalid;
        }

        if (await budgets.CheckAsync(question.Tenant, cancellationToken) is { } exhausted)
        {
            await DeferAsync(message, exhausted, cancellationToken);
            return;
        }

        var claim = await ClaimAsync(message, cancellationToken);
        if (claim is null)
        {
            Log.AlreadyAnswered(logger, message.BatchId, message.Index);
            return;
        }

        try
        {
            await AnswerAsync(delivery, message, question, claim, cancellationToken);
        }
        catch
        {
            // Failed: the next delivery need not wait for the lease. A written row released its claim with it.
            await claims.ReleaseAsync(claim);
            throw;
        }
    }

    /// <summary>
    /// Holds back a question of an exhausted tenant until its window resets, without answering it: a copy of the message
    /// is sent hidden until the reset (at most <see cref="MaxDeferral"/>: one whose reset is further away is deferred
    /// again when it reappears) and never expiring, and this delivery completes, so the host deletes the original. The
    /// copy's dequeue count starts at 0, so deferral never poisons a message. The rejection counts once per question,
    /// however often it is deferred (an add-if-absent <see cref="DeferralEntity"/>); rag_requests_total counts the question later, once, with
    /// its final outcome. A crash after the send leaves two messages: the claim and the result row still give one answer.
    /// </summary>
    private async Task DeferAsync(BatchMessage message, BudgetExhausted exhausted, CancellationToken cancellationToken)
    {
        // A duplicate of an answered question has nothing left to defer; nor has a duplicate of one another delivery is
        // answering now (it was admitted before the limit was reached): that delivery's message settles it, so this
        // copy is neither deferred nor counted as a rejection.
        if (await store.ResultExistsAsync(message.BatchId, message.Index, cancellationToken)
            || await claims.IsHeldAsync(message.BatchId, message.Index, cancellationToken))
        {
            Log.AlreadyAnswered(logger, message.BatchId, message.Index);
            return;
        }

        var now = time.GetUtcNow();
        var hiddenFor = TimeSpan.FromTicks(Math.Clamp((exhausted.ResetsAt - now).Ticks, MinDeferral.Ticks, MaxDeferral.Ticks));
        var first = await store.TryAddDeferralAsync(message.BatchId, message.Index, exhausted, now, cancellationToken);
        if (first)
        {
            metrics.BudgetRejected(QueryOrigin.Queue, exhausted.Tenant);
        }

        await store.EnqueueHiddenAsync(message, hiddenFor, cancellationToken);
        Log.Deferred(logger, message.BatchId, message.Index, exhausted.Tenant, exhausted.ExhaustedBudget, exhausted.Window.LabelValue(), now + hiddenFor, first);
    }

    /// <summary>
    /// This delivery's claim on the row, or null once the row exists. While another delivery holds a live claim this one
    /// waits, holding its message (the host keeps renewing its lease), and makes no model call: it completes once the
    /// row is written, or takes the claim over when its owner released it or let it expire.
    /// The claim is tried before the row is looked for: a first delivery (the usual case) then costs one look, after
    /// the claim, instead of two around it; only a redelivery of a written row pays for a claim it releases at once.
    /// </summary>
    private async Task<ClaimEntity?> ClaimAsync(BatchMessage message, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await claims.TryClaimAsync(message.BatchId, message.Index, cancellationToken) is { } claim)
            {
                // A previous owner may have written the row and released its claim before this one was taken.
                if (!await store.ResultExistsAsync(message.BatchId, message.Index, cancellationToken))
                {
                    return claim;
                }

                await claims.ReleaseAsync(claim);
                return null;
            }

            if (await store.ResultExistsAsync(message.BatchId, message.Index, cancellationToken))
            {
                return null;
            }

            await Task.Delay(ClaimPollInterval, time, cancellationToken);
        }
    }

    private async Task AnswerAsync(QueueDelivery delivery, BatchMessage message, StoredQuestion question, ClaimEntity claim, CancellationToken cancellationToken)
    {
        var dequeueCount = DequeueCountOf(delivery);
        BatchResult result;
        Exception? failure = null;
        try
        {
            var answer = await pipeline.AttemptAsync(new RagQuery(question.Text, question.Domain), question.Tenant, cancellationToken);
            result = BatchResult.Answered(message.Index, question.Text, answer, dequeueCount, time.GetUtcNow());
        }
        catch (Exception ex) when (ex is InvalidRequestException or ModelCallFailedException { IsTransient: false })
        {
            // Retrying cannot help: record the failure so the batch completes.
            failure = ex;
            result = BatchResult.Failed(message.Index, question.Text, pipeline.ModelId, ex.Message, dequeueCount, time.GetUtcNow());
        }

        if (await claims.TryAddResultAsync(claim, result, cancellationToken))
        {
            pipeline.Completed(QueryOrigin.Queue, question.Tenant, failure);
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
        await store.EnsureCreatedAsync(cancellationToken);
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

        var inserted = await store.TryAddResultAsync(message.BatchId, BatchResult.Failed(
            message.Index, question.Text, pipeline.ModelId, "The question failed on every delivery and was moved to the poison queue.",
            DequeueCountOf(delivery), time.GetUtcNow()), writtenBy: null, cancellationToken);
        if (inserted)
        {
            metrics.PoisonMessages.Inc();
            pipeline.Poisoned(QueryOrigin.Queue, question.Tenant);
        }

        Log.Poisoned(logger, message.BatchId, message.Index, inserted);
    }

    /// <summary>Keeps an unprocessable poison message whole, keyed by its message id, and counts it the first time only.</summary>
    private async Task DeadLetterAsync(QueueDelivery delivery, InvalidQueueMessageException invalid, CancellationToken cancellationToken)
    {
        var inserted = await store.TryAddDeadLetterAsync(delivery.MessageId, delivery.Body, invalid.Message, time.GetUtcNow(), cancellationToken);
        if (inserted)
        {
            metrics.PoisonMessages.Inc();
            // It names no batch, so no tenant: it counts for default.
            pipeline.Completed(QueryOrigin.Queue, BudgetOptions.DefaultTenant, invalid);
        }

        Log.DeadLettered(logger, invalid.Message, inserted);
    }

    /// <summary>The question the message names, as submitted with its batch's domain, or null with why it names none.</summary>
    private async Task<(StoredQuestion? Question, InvalidQueueMessageException? Invalid)> LocateAsync(BatchMessage message, CancellationToken cancellationToken)
    {
        if (await FindBatchAsync(message.BatchId, cancellationToken) is not { } batch || message.Index >= batch.Count)
        {
            return (null, new InvalidQueueMessageException(UnknownBatch));
        }

        var text = await store.FindQuestionAsync(message.BatchId, message.Index, cancellationToken);
        return text is null ? (null, new InvalidQueueMessageException(NoStoredQuestion)) : (new StoredQuestion(text, batch.Domain, batch.Tenant), null);
    }

    private async Task<SubmittedBatch?> FindBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        if (_batches.TryGetValue(batchId, out var cached))
        {
            return cached;
        }

        if (await store.FindBatchAsync(batchId, cancellationToken) is not { } batch)
        {
            return null;
        }

        if (_batches.Count >= MaxCachedBatches)
        {
            _batches.Clear();
        }

        return _batches.GetOrAdd(batchId, batch);
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

    private sealed record StoredQuestion(string Text, string? Domain, string Tenant);

    private static int DequeueCountOf(QueueDelivery delivery) => (int)Math.Min(delivery.DequeueCount, int.MaxValue);
}
