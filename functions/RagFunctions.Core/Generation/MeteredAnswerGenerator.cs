using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pricing;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.Core.Generation;

/// <summary>
/// Wraps whichever generator answers and meters it in one place: tokens by type, cost, cost per query, unpriced tokens,
/// generation latency and errors by kind. The generator's configured model id is the label, and cost and tokens are
/// also labelled with the query's tenant.
/// </summary>
public sealed class MeteredAnswerGenerator
{
    private readonly IAnswerGenerator _inner;
    private readonly RagMetrics.ModelMeters _meters;
    private readonly RagMetrics _metrics;
    private readonly ModelPrice? _price;
    private readonly ILogger _logger;
    private int _unpricedLogged;

    public MeteredAnswerGenerator(IAnswerGenerator inner, RagMetrics metrics, PriceTable prices, ILogger<MeteredAnswerGenerator> logger)
    {
        _inner = inner;
        _metrics = metrics;
        _meters = metrics.ForModel(inner.ModelId, BudgetOptions.DefaultTenant);
        _price = prices.TryGetPrice(inner.ModelId, out var price) ? price : null;
        _logger = logger;
    }

    public string ModelId => _inner.ModelId;

    /// <summary>The answer and its cost; a failed call is counted by kind and thrown as <see cref="ModelCallFailedException"/>.</summary>
    public async Task<PricedAnswer> GenerateAsync(string question, IReadOnlyList<RetrievedPassage> passages, string tenant, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        GeneratedAnswer answer;
        try
        {
            answer = await _inner.GenerateAsync(question, passages, cancellationToken);
        }
        catch (ModelCredentialsException)
        {
            // No model call was made: not an LLM error, and not a rejection by the model.
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.GenerationStage.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var (kind, retryAfter) = LlmFailures.Classify(ex);
            _meters.CountError(kind);
            throw new ModelCallFailedException(ModelId, kind, retryAfter, ex);
        }

        _metrics.GenerationStage.Observe(answer.Latency.TotalSeconds);
        return new PricedAnswer(answer, Record(answer.Usage, _metrics.ForModel(ModelId, tenant)));
    }

    private decimal Record(in TokenUsage usage, RagMetrics.ModelMeters meters)
    {
        meters.InputTokens.Inc(usage.Input);
        meters.OutputTokens.Inc(usage.Output);
        meters.CacheReadTokens.Inc(usage.CacheRead);
        meters.CacheWriteTokens.Inc(usage.CacheWrite);
        if (_price is null)
        {
            // Never a silent $0: the tokens are counted as unpriced and the gap is logged once.
            _meters.UnpricedTokens.Inc(usage.Total);
            if (Interlocked.Exchange(ref _unpricedLogged, 1) == 0)
            {
                Log.ModelHasNoPrice(_logger, ModelId);
            }

            return 0m;
        }

        var cost = _price.CostOf(usage);
        meters.AddCost(cost);
        _meters.QueryCost.Observe((double)cost);
        return cost;
    }
}

/// <summary>A generated answer and what it cost, exact in decimal (0 for a model without a price).</summary>
public sealed record PricedAnswer(GeneratedAnswer Generated, decimal CostUsd);
