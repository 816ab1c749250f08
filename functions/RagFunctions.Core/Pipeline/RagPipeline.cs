using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Pipeline;

/// <summary>Validate → retrieve → prompt → generate, metering each stage. Knows nothing about its trigger's transport.</summary>
public sealed partial class RagPipeline(
    QueryValidator validator,
    IRetriever retriever,
    MeteredChatClient chat,
    RagMetrics metrics,
    IOptions<RetrievalOptions> retrieval,
    ILogger<RagPipeline> logger)
{
    private readonly ChatOptions _chatOptions = new();
    private readonly int _topK = retrieval.Value.TopK;

    public string ModelId => chat.ModelId;

    public async Task<RagAnswer> AnswerAsync(RagQuery query, QueryTrigger trigger, CancellationToken cancellationToken)
    {
        string question;
        string? domain;
        try
        {
            (question, domain) = validator.Validate(query.Question, query.Domain);
        }
        catch (InvalidRequestException) when (trigger != QueryTrigger.Http)
        {
            // HTTP rejections are counted once, at the edge, by the problem-details middleware.
            metrics.CountRequest(trigger, QueryOutcome.Invalid);
            throw;
        }

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

            var response = await chat.GetResponseAsync(PromptBuilder.Build(question, passages), _chatOptions, cancellationToken);
            var metering = (GenerationMetering)response.AdditionalProperties![MeteredChatClient.MeteringKey]!;
            var total = Stopwatch.GetElapsedTime(started);
            metrics.TotalStage.Observe(total.TotalSeconds);
            metrics.CountRequest(trigger, QueryOutcome.Success);

            var sources = new SourceRef[passages.Count];
            for (var i = 0; i < sources.Length; i++)
            {
                sources[i] = new SourceRef(passages[i].Id, passages[i].Title, Math.Round(passages[i].Score, 4));
            }

            return new RagAnswer(
                response.Text, sources, metering.ModelId, UsageView.From(metering.Usage), metering.CostUsd,
                new LatencyView(Milliseconds(retrievalTime), Milliseconds(metering.Latency), Milliseconds(total)));
        }
        catch (Exception ex)
        {
            metrics.TotalErrorStage.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var outcome = ex switch
            {
                ModelCallFailedException { Kind: LlmErrorKind.Throttling } => QueryOutcome.Throttled,
                ModelCallFailedException { IsTransient: true } => QueryOutcome.Unavailable,
                _ => QueryOutcome.Error,
            };
            metrics.CountRequest(trigger, outcome);
            Log.QueryFailed(logger, trigger.LabelValue(), outcome.LabelValue(), ex);
            throw;
        }
    }

    private static double Milliseconds(TimeSpan span) => Math.Round(span.TotalMilliseconds, 3);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Query from {Trigger} failed with outcome {Outcome}")]
        public static partial void QueryFailed(ILogger logger, string trigger, string outcome, Exception exception);
    }
}
