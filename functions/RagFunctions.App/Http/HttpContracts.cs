using RagFunctions.Core.Batches;
using RagFunctions.Core.Input;

namespace RagFunctions.App.Http;

/// <summary>Body of POST /api/query: <c>{"question":"…","domain":null}</c>.</summary>
public sealed record QueryRequestBody(string? Question, string? Domain)
{
    public static readonly string[] Members = ["question", "domain"];

    /// <summary>The question's content is checked by the pipeline's validator, as for every other source of questions.</summary>
    public static QueryRequestBody Read(JsonObjectReader body) =>
        new(body.String("question", required: false), body.String("domain", required: false));
}

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
public sealed class RequestRejectedException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public string Detail { get; } = detail;

    /// <summary>The Accept-Encoding header of the response, for a 415 refusing a request's Content-Encoding.</summary>
    public string? AcceptEncoding { get; init; }
}
