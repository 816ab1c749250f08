using RagFunctions.Core.Generation;

namespace RagFunctions.Core.Pipeline;

public sealed record SourceRef(string Id, string Title, double Score);

/// <summary>Milliseconds per stage, rounded to microseconds.</summary>
public sealed record LatencyView(double Retrieval, double Generation, double Total);

/// <summary>
/// The answer with its sources, the model, token usage, exact cost and per-stage latency in milliseconds. The edges map
/// from it once each: the HTTP body (App's <c>QueryAnswerBody</c>) and the result row (<c>BatchStore</c>).
/// </summary>
public sealed record RagAnswer(
    string Answer, IReadOnlyList<SourceRef> Sources, string Model, TokenUsage Usage, decimal CostUsd, LatencyView LatencyMs);
