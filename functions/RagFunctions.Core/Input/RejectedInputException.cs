namespace RagFunctions.Core.Input;

/// <summary>
/// Input that is refused as it stands: the caller must fix it, and retrying the same input cannot help. Whatever the
/// edge makes of it (a 400, a 413 or 415, a dead letter), the query's outcome is <c>invalid</c>.
/// </summary>
public abstract class RejectedInputException(string message) : Exception(message);
