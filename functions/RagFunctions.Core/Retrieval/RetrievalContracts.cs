namespace RagFunctions.Core.Retrieval;

/// <summary>Finds the corpus passages that best answer a question.</summary>
public interface IRetriever
{
    /// <summary>
    /// Returns at most <paramref name="topK"/> passages, best first. An empty list is a normal result
    /// (nothing in the corpus matches). Never throws for any question text.
    /// </summary>
    /// <param name="question">Free user text; it is analysed, never parsed as query syntax.</param>
    /// <param name="domain">Restricts results to one corpus domain; null or empty searches all domains.</param>
    /// <param name="topK">Maximum number of passages, at least 1.</param>
    RetrievalResult Retrieve(string question, string? domain, int topK);
}

/// <summary>One searchable section of a corpus document.</summary>
/// <param name="Id">Document id, or <c>docId#section-slug</c> for a <c>##</c> section.</param>
/// <param name="Title">Document title, or <c>title — section heading</c>.</param>
public sealed record RetrievedPassage(string Id, string Title, string Domain, string Text, float Score);

/// <summary>The passages found for one question, best first.</summary>
public sealed record RetrievalResult(IReadOnlyList<RetrievedPassage> Passages)
{
    public static RetrievalResult Empty { get; } = new([]);

    public int Count => Passages.Count;

    public bool IsEmpty => Passages.Count == 0;
}
