namespace RagFunctions.Core.Pipeline;

/// <summary>A question and the optional domain that limits retrieval.</summary>
public sealed record RagQuery(string? Question, string? Domain);
