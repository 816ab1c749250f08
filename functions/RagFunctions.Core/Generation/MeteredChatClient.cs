using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pricing;

namespace RagFunctions.Core.Generation;

/// <summary>
/// Wraps whichever provider answers and meters it in one place: tokens by type, cost, cost per query,
/// unpriced tokens, generation latency and errors by kind. The configured model id is the label, never a response field.
/// </summary>
public sealed class MeteredChatClient : DelegatingChatClient
{
    /// <summary>Key under which the <see cref="GenerationMetering"/> of a response is attached.</summary>
    public const string MeteringKey = "rag.metering";

    private readonly RagMetrics.ModelMeters _meters;
    private readonly RagMetrics _metrics;
    private readonly ModelPrice? _price;
    private readonly ILogger _logger;
    private int _unpricedLogged;

    public MeteredChatClient(IChatClient inner, string modelId, RagMetrics metrics, PriceTable prices, ILogger<MeteredChatClient> logger)
        : base(inner)
    {
        ModelId = modelId;
        _metrics = metrics;
        _meters = metrics.ForModel(modelId);
        _price = prices.TryGetPrice(modelId, out var price) ? price : null;
        _logger = logger;
    }

    public string ModelId { get; }

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken);
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

        var elapsed = Stopwatch.GetElapsedTime(started);
        _metrics.GenerationStage.Observe(elapsed.TotalSeconds);
        var usage = TokenUsageOf(response.Usage);
        var cost = Record(usage);
        (response.AdditionalProperties ??= [])[MeteringKey] = new GenerationMetering(ModelId, usage, cost, elapsed);
        return response;
    }

    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The RAG pipeline meters complete responses only; streaming is not used.");

    /// <summary>
    /// Input excludes cache tokens (Bedrock's convention); cache reads and writes are separate counts under
    /// <see cref="UsageCounts"/>, so each token is priced exactly once.
    /// </summary>
    public static TokenUsage TokenUsageOf(UsageDetails? usage)
    {
        if (usage is null)
        {
            return default;
        }

        long cacheRead = 0, cacheWrite = 0;
        usage.AdditionalCounts?.TryGetValue(UsageCounts.CacheRead, out cacheRead);
        usage.AdditionalCounts?.TryGetValue(UsageCounts.CacheWrite, out cacheWrite);
        return new TokenUsage(usage.InputTokenCount ?? 0, usage.OutputTokenCount ?? 0, cacheRead, cacheWrite);
    }

    private decimal Record(in TokenUsage usage)
    {
        _meters.InputTokens.Inc(usage.Input);
        _meters.OutputTokens.Inc(usage.Output);
        _meters.CacheReadTokens.Inc(usage.CacheRead);
        _meters.CacheWriteTokens.Inc(usage.CacheWrite);
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
        var dollars = (double)cost;
        _meters.Cost.Inc(dollars);
        _meters.QueryCost.Observe(dollars);
        return cost;
    }
}

/// <summary>What one model call used and cost.</summary>
public sealed record GenerationMetering(string ModelId, TokenUsage Usage, decimal CostUsd, TimeSpan Latency);

/// <summary>Keys of <see cref="UsageDetails.AdditionalCounts"/> that providers fill with prompt-cache tokens.</summary>
public static class UsageCounts
{
    public const string CacheRead = "cache_read";
    public const string CacheWrite = "cache_write";
}
