using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Pipeline;

/// <summary>
/// Validate → retrieve → generate, metering each stage, and the owner of each query's outcome: a failure is classified
/// here (<see cref="OutcomeOf"/>) and every final outcome is reported here, once, to <see cref="IQueryOutcomeObserver"/>.
/// Knows nothing about its trigger's transport: the trigger states the query's <see cref="QueryOrigin"/> and the tenant
/// it counts for (resolved once, at the edge: <see cref="Budgets.TenantBudgets"/>). A query or submission is admitted
/// only while its tenant's budgets allow (<see cref="BudgetGate"/>), after its input was found valid.
/// </summary>
public sealed class RagPipeline(
    QueryValidator validator,
    IRetriever retriever,
    MeteredAnswerGenerator generator,
    BudgetGate budgets,
    RagMetrics metrics,
    IQueryOutcomeObserver outcomes,
    IOptions<RetrievalOptions> retrieval,
    ILogger<RagPipeline> logger)
{
    private readonly int _topK = retrieval.Value.TopK;

    public string ModelId => generator.ModelId;

    /// <summary>
    /// Reads one query (<paramref name="read"/>: e.g. its HTTP body), validates it, admits it within its tenant's budgets
    /// and answers it. Its outcome is final, so it is reported here, whether the query was rejected, refused, failed or
    /// answered. A read that fails for another reason (the client went away mid-upload) never became a query, as with
    /// <see cref="AdmitAsync{T}"/>.
    /// </summary>
    public async Task<RagAnswer> AnswerAsync(QueryOrigin origin, string tenant, Func<CancellationToken, Task<RagQuery>> read, CancellationToken cancellationToken)
    {
        var (question, domain) = await AdmitAsync(origin, tenant, async token =>
        {
            var query = await read(token);
            return validator.Validate(query.Question, query.Domain);
        }, cancellationToken);
        try
        {
            var answer = await AnswerValidAsync(question, domain, tenant, cancellationToken);
            Completed(origin, tenant, failure: null);
            return answer;
        }
        catch (Exception ex)
        {
            Completed(origin, tenant, ex);
            throw;
        }
    }

    /// <summary>
    /// Reads and validates queries (<paramref name="admit"/>), then admits them within <paramref name="tenant"/>'s
    /// budgets: invalid input is refused first (a 400 stays a 400 whatever the budget), then an exhausted budget
    /// (<see cref="BudgetExhaustedException"/>). A refusal is the final outcome and is reported here, once (a batch's
    /// submission counts once); admitted queries report nothing yet, each reports its own outcome when it is settled.
    /// </summary>
    public async Task<T> AdmitAsync<T>(QueryOrigin origin, string tenant, Func<CancellationToken, Task<T>> admit, CancellationToken cancellationToken)
    {
        T admitted;
        try
        {
            admitted = await admit(cancellationToken);
        }
        catch (RejectedInputException ex)
        {
            Completed(origin, tenant, ex);
            throw;
        }

        if (await budgets.CheckAsync(tenant, cancellationToken) is { } exhausted)
        {
            var refused = new BudgetExhaustedException(exhausted);
            metrics.BudgetRejected(origin, tenant);
            Completed(origin, tenant, refused);
            throw refused;
        }

        return admitted;
    }

    /// <summary>
    /// One attempt at a question, not reported: a queued question may be attempted on several deliveries, and is
    /// settled once, with <see cref="Completed"/> or <see cref="Poisoned"/>, by the delivery that writes its result row.
    /// </summary>
    public Task<RagAnswer> AttemptAsync(RagQuery query, string tenant, CancellationToken cancellationToken)
    {
        var (question, domain) = validator.Validate(query.Question, query.Domain);
        return AnswerValidAsync(question, domain, tenant, cancellationToken);
    }

    /// <summary>Retrieve → generate for a question <see cref="QueryValidator"/> has normalized.</summary>
    private async Task<RagAnswer> AnswerValidAsync(string question, string? domain, string tenant, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var passages = retriever.Retrieve(question, domain, _topK).Passages;
            var retrievalTime = Stopwatch.GetElapsedTime(started);
            metrics.RetrievalStage.Observe(retrievalTime.TotalSeconds);
            metrics.RetrievedDocuments.Observe(passages.Count);
            if (passages.Count == 0)
            {
                metrics.NoContext.Inc();
            }

            var priced = await generator.GenerateAsync(question, passages, tenant, cancellationToken);
            var generated = priced.Generated;
            var total = Stopwatch.GetElapsedTime(started);
            metrics.TotalStage.Observe(total.TotalSeconds);

            var sources = new SourceRef[passages.Count];
            for (var i = 0; i < sources.Length; i++)
            {
                sources[i] = new SourceRef(passages[i].Id, passages[i].Title, Math.Round(passages[i].Score, 4));
            }

            return new RagAnswer(
                generated.Text, sources, generated.ModelId, generated.Usage, priced.CostUsd,
                new LatencyView(Milliseconds(retrievalTime), Milliseconds(generated.Latency), Milliseconds(total)));
        }
        catch
        {
            metrics.TotalErrorStage.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            throw;
        }
    }

    /// <summary>Settles a query: answered when <paramref name="failure"/> is null, else the outcome its failure classifies as.</summary>
    public void Completed(QueryOrigin origin, string tenant, Exception? failure)
    {
        var outcome = failure is null ? QueryOutcome.Success : OutcomeOf(failure);
        if (failure is BudgetExhaustedException { Exhausted: var exhausted })
        {
            Log.BudgetExhausted(logger, origin, exhausted.Tenant, exhausted.ExhaustedBudget, exhausted.Window.LabelValue(), exhausted.ResetsAt);
        }
        else if (failure is not null && outcome != QueryOutcome.Invalid)
        {
            Log.QueryFailed(logger, origin, outcome, failure);
        }

        outcomes.QueryCompleted(origin, outcome, tenant);
    }

    /// <summary>
    /// Settles a question that failed on every delivery and reached the poison queue: only transient failures (throttling,
    /// an unavailable model or storage, missing credentials) are retried that far, so it is <c>unavailable</c>.
    /// </summary>
    public void Poisoned(QueryOrigin origin, string tenant) => outcomes.QueryCompleted(origin, QueryOutcome.Unavailable, tenant);

    /// <summary>The outcome of a failed query: the one place a failure is classified, for every origin.</summary>
    public static QueryOutcome OutcomeOf(Exception exception) => exception switch
    {
        RejectedInputException => QueryOutcome.Invalid,
        BudgetExhaustedException => QueryOutcome.BudgetExhausted,
        ModelCallFailedException { Kind: LlmErrorKind.Throttling } => QueryOutcome.Throttled,
        ModelCallFailedException { IsTransient: true } or ModelCredentialsException => QueryOutcome.Unavailable,
        _ => QueryOutcome.Error,
    };

    private static double Milliseconds(TimeSpan span) => Math.Round(span.TotalMilliseconds, 3);
}
