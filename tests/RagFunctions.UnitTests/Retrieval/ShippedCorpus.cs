using RagFunctions.Core.Retrieval;

namespace RagFunctions.UnitTests.Retrieval;

/// <summary>The real corpus, copied into the test output folder under corpus/, indexed once for all tests.</summary>
public sealed class ShippedCorpus : IDisposable
{
    public static string Path { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "corpus");

    public LuceneRetriever Retriever { get; } = LuceneRetriever.FromPath(Path);

    public void Dispose() => Retriever.Dispose();
}
