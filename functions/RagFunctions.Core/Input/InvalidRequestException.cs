namespace RagFunctions.Core.Input;

/// <summary>
/// Input the caller must fix. Carries per-field errors keyed like ASP.NET's ValidationProblemDetails ("question",
/// "questions[3]", "$" for the document itself) and a one-line summary; the edge decides what it becomes (a 400, a
/// failed result row, a dead letter).
/// </summary>
public sealed class InvalidRequestException(IReadOnlyDictionary<string, string[]> errors, string detail) : RejectedInputException(detail)
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;

    public string Detail { get; } = detail;

    /// <summary>One error on one field.</summary>
    public static InvalidRequestException For(string field, string message)
    {
        var errors = new InputErrors();
        errors.Add(field, message);
        return errors.ToException();
    }
}
