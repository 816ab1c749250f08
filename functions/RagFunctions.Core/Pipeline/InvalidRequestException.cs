namespace RagFunctions.Core.Pipeline;

/// <summary>Input the caller must fix; becomes an RFC 9457 problem with this status, title and detail.</summary>
public sealed class InvalidRequestException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public string Detail { get; } = detail;

    public static InvalidRequestException BadRequest(string detail) => new(400, "Invalid request", detail);
}
