using RagFunctions.Core.Batches;
using RagFunctions.Core.Input;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.App.Http;

/// <summary>Body of POST /api/query: <c>{"question":"…","domain":null}</c>, bound straight to the pipeline's <see cref="RagQuery"/>.</summary>
public static class QueryRequestBody
{
    public static readonly string[] Members = ["question", "domain"];

    /// <summary>The question's content is checked by the pipeline's validator, as for every other source of questions.</summary>
    public static RagQuery Read(JsonObjectReader body) =>
        new(body.String("question", required: false), body.String("domain", required: false));
}

/// <summary>200 body of POST /api/query: the answer as README documents it; the one place a <see cref="RagAnswer"/> becomes JSON.</summary>
public sealed record QueryAnswerBody(
    string Answer, IReadOnlyList<SourceRef> Sources, string Model, UsageBody Usage, decimal CostUsd, LatencyView LatencyMs)
{
    public static QueryAnswerBody From(RagAnswer answer) => new(
        answer.Answer, answer.Sources, answer.Model,
        new UsageBody(answer.Usage.Input, answer.Usage.Output, answer.Usage.CacheRead, answer.Usage.CacheWrite),
        answer.CostUsd, answer.LatencyMs);
}

/// <summary>Tokens by type, as <c>usage</c> of a query's answer (input excludes cache tokens).</summary>
public sealed record UsageBody(long InputTokens, long OutputTokens, long CacheReadTokens, long CacheWriteTokens);

/// <summary>Body of POST /api/batches: <c>{"questions":["…"],"domain":null}</c>.</summary>
public static class BatchRequestBody
{
    public static readonly string[] Members = ["questions", "domain"];

    public static BatchRequest Read(JsonObjectReader body) =>
        new(body.StringArray("questions"), body.String("domain", required: false));
}

/// <summary>202 body of POST /api/batches.</summary>
public sealed record BatchAcceptedBody(string BatchId, int Count, string StatusUrl);

/// <summary>A request refused before its content is read (media type, charset, content encoding, size): a 4xx other than 400.</summary>
public sealed class RequestRejectedException(int status, string title, string detail) : RejectedInputException(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public string Detail { get; } = detail;

    /// <summary>The Accept-Encoding header of the response, for a 415 refusing a request's Content-Encoding.</summary>
    public string? AcceptEncoding { get; init; }
}
