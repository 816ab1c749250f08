namespace RagFunctions.Core.Retrieval;

/// <summary>A markdown file of the corpus with its front matter parsed.</summary>
/// <param name="Id">Front matter <c>id</c>, unique across the corpus.</param>
/// <param name="Title">Front matter <c>title</c>.</param>
/// <param name="Domain">Front matter <c>domain</c> (runbooks, metrics, operations).</param>
/// <param name="Body">The markdown after the front matter.</param>
/// <param name="Source">The file the document came from, relative to the corpus root (for error messages).</param>
public sealed record CorpusDocument(string Id, string Title, string Domain, string Body, string Source);

/// <summary>A corpus file is unreadable or its front matter is malformed; start-up must fail.</summary>
public sealed class CorpusException : Exception
{
    public CorpusException()
    {
    }

    public CorpusException(string message)
        : base(message)
    {
    }

    public CorpusException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
