using RagFunctions.Core.Generation.Bedrock;
using RagFunctions.Core.Pricing;

namespace RagFunctions.Ledger;

/// <summary>
/// Default bounds of one instance's increase in one fold, derived from what one pod can spend in one fold at most:
/// every concurrency slot completing a query a second, each query filling the largest context window and the output
/// limit, priced at the highest input-side and output prices of the shipped price table. Anything above is a bug or a forgery.
/// </summary>
public static class PlausibilityBounds
{
    public const string CostFamily = "rag_cost_dollars_total";
    public const string TokenFamily = "rag_token_usage_total";

    /// <summary>Queries in flight per pod: host.json's queue batchSize 16 + newBatchThreshold 8 (the HTTP add-on targets 10).</summary>
    public const int PerPodConcurrency = 24;

    /// <summary>Input tokens of one query at most: the largest context window among the shipped models (Claude 3.5, 200k).</summary>
    public const long MaxInputTokensPerQuery = 200_000;

    /// <summary>Queries one slot completes in one default 5 s fold at most (a full-context model call takes well over a second).</summary>
    public const int QueriesPerSlotPerFold = 5;

    /// <summary>Input (incl. cache read/write) and output tokens of one query at most; the output limit is Bedrock's MaxTokens default.</summary>
    public static long MaxTokensPerQuery => MaxInputTokensPerQuery + new BedrockOptions().MaxTokens;

    /// <summary>USD of one query at most: all input at the highest input-side price, all output at the highest output price.</summary>
    public static decimal MaxCostPerQuery
    {
        get
        {
            var prices = PriceTable.Shipped.Values;
            var input = prices.Max(p => Math.Max(p.InputPerMillion, Math.Max(p.CacheReadPerMillion, p.CacheWritePerMillion)));
            var output = prices.Max(p => p.OutputPerMillion);
            return ((MaxInputTokensPerQuery * input) + (new BedrockOptions().MaxTokens * output)) / 1_000_000m;
        }
    }

    /// <summary>The default bounds per family: queries per pod per fold times the per-query maximum.</summary>
    public static Dictionary<string, double> Defaults()
    {
        const int queries = PerPodConcurrency * QueriesPerSlotPerFold;
        return new(StringComparer.Ordinal)
        {
            [CostFamily] = (double)(queries * MaxCostPerQuery),
            [TokenFamily] = queries * MaxTokensPerQuery,
        };
    }
}
