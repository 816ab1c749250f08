using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Input;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Pipeline;

/// <summary>Validate → retrieve → generate, metering each stage. Knows nothing about its trigger's transport.</summary>
public sealed class RagPipeline(
    QueryValidator validator,
    IRetriever retriever,
    MeteredAnswerGenerator generator,
    RagMetrics metrics,
    IOptions<RetrievalOptions> retrieval,
    ILogger<RagPipeline> logger)
{
    private readonly int _topK = retrieval.Value.TopK;

    public string ModelId => generator.ModelId;

    /// <summary>
    /// Answers one HTTP query. Its outcome is final, so it is counted here; rejected input is counted where it is
    /// rejected, at the HTTP edge, together with bodies that never reach the pipeline.
    /// </summary>
    public async Task<RagAnswer> AnswerAsync(RagQuery query, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await AttemptAsync(query, cancellationToken);
            metrics.CountRequest(QueryTrigger.Http, QueryOutcome.Success);
            return answer;
        }
        catch (Exception ex) when (ex is not InvalidRequestException)
        {
            var outcome = OutcomeOf(ex);
            metrics.CountRequest(QueryTrigger.Http, outcome);
            Log.QueryFailed(logger, QueryTrigger.Http.LabelValue(), outcome.LabelValue(), ex);
            throw;
        }
    }

    /// <summary>
    /// One attempt at a question, not counted in rag_requests_total: a queued question may be attempted on several
    /// deliveries, and its batch counts it once, with its final outcome, when its result row is written.
    /// </summary>
    public async Task<RagAnswer> AttemptAsync(RagQuery query, CancellationToken cancellationToken)
    {
        var (question, domain) = validator.Validate(query.Question, query.Domain);

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

            var priced = await generator.GenerateAsync(question, passages, cancellationToken);
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

    /// <summary>The outcome label of a failed query: the one place a failure is classified, for HTTP and queue alike.</summary>
    public static QueryOutcome OutcomeOf(Exception exception) => exception switch
    {
        InvalidRequestException => QueryOutcome.Invalid,
        ModelCallFailedException { Kind: LlmErrorKind.Throttling } => QueryOutcome.Throttled,
        ModelCallFailedException { IsTransient: true } or ModelCredentialsException => QueryOutcome.Unavailable,
        _ => QueryOutcome.Error,
    };

    private static double Milliseconds(TimeSpan span) => Math.Round(span.TotalMilliseconds, 3);
}
