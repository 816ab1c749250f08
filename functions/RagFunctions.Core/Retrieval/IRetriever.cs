// PROVISIONAL: replaced by the retrieval branch at merge.
namespace RagFunctions.Core.Retrieval;

public interface IRetriever
{
    RetrievalResult Retrieve(string question, string? domain, int topK);
}

public sealed record RetrievedPassage(string Id, string Title, string Domain, string Text, float Score);

public sealed record RetrievalResult(IReadOnlyList<RetrievedPassage> Passages);

public sealed class RetrievalOptions
{
    public string CorpusPath { get; set; } = "corpus";

    public int TopK { get; set; } = 4;
}
