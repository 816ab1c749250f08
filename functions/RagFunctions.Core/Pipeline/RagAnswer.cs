using RagFunctions.Core.Generation;

namespace RagFunctions.Core.Pipeline;

public sealed record SourceRef(string Id, string Title, double Score);

public sealed record UsageView(long InputTokens, long OutputTokens, long CacheReadTokens, long CacheWriteTokens)
{
    public static UsageView From(in TokenUsage usage) => new(usage.Input, usage.Output, usage.CacheRead, usage.CacheWrite);
}

public sealed record LatencyView(double Retrieval, double Generation, double Total);

/// <summary>The answer with its sources, the model, token usage, cost and per-stage latency in milliseconds.</summary>
public sealed record RagAnswer(
    string Answer, IReadOnlyList<SourceRef> Sources, string Model, UsageView Usage, decimal CostUsd, LatencyView LatencyMs);
