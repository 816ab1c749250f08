using RagFunctions.Core.Retrieval;

namespace RagFunctions.UnitTests.Retrieval;

public sealed class CorpusLoaderTests : IDisposable
{
    private static readonly string[] AlertRunbooks =
    [
        "daily-budget-exceeded", "monthly-budget-exceeded", "budget-burn-rate-high", "high-cost-spike",
        "pushgateway-down", "metrics-push-failing", "ledger-stalled", "high-p95-latency", "llm-error-rate",
        "llm-throttling", "unpriced-model-usage", "poison-messages", "queue-backlog-growing", "tenant-budget-warning",
        "tenant-budget-enforced",
    ];

    private readonly string folder = Directory.CreateTempSubdirectory("rag-corpus-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void LoadsEveryShippedMarkdownFileWithItsFrontMatter()
    {
        var documents = CorpusLoader.Load(ShippedCorpus.Path);

        var files = Directory.GetFiles(ShippedCorpus.Path, "*.md", SearchOption.AllDirectories);
        Assert.Equal(files.Length, documents.Count);
        Assert.All(documents, d => Assert.Contains(d.Domain, new[] { "runbooks", "metrics", "operations" }));
        Assert.Equal(documents.Count, documents.Select(d => d.Id).Distinct().Count());
    }

    [Fact]
    public void ShipsOneRunbookPerContractAlert()
    {
        var documents = CorpusLoader.Load(ShippedCorpus.Path);

        foreach (var name in AlertRunbooks)
        {
            var runbook = Assert.Single(documents, d => d.Source == $"runbooks/{name}.md");
            Assert.Equal("runbooks", runbook.Domain);
            Assert.Equal($"runbook-{name}", runbook.Id);
            Assert.Contains("## How to silence", runbook.Body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ParsesFrontMatterAndKeepsBodyAfterIt()
    {
        Write("ops/a.md", "---\nid: doc-a\ntitle: \"Doc A\"\ndomain: operations\n---\n# Doc A\n\nBody text.\n");
        Write("b.md", "\uFEFF---\r\nid: doc-b\r\ntitle: Doc B: colons allowed\r\ndomain: runbooks\r\n---\r\nOther body.\r\n");
        Write("ignored.txt", "not markdown");

        var documents = CorpusLoader.Load(folder);

        Assert.Equal(2, documents.Count);
        var a = Assert.Single(documents, d => d.Id == "doc-a");
        Assert.Equal(("Doc A", "operations", "# Doc A\n\nBody text.", "ops/a.md"), (a.Title, a.Domain, a.Body, a.Source));
        var b = Assert.Single(documents, d => d.Id == "doc-b");
        Assert.Equal(("Doc B: colons allowed", "runbooks", "Other body."), (b.Title, b.Domain, b.Body));
    }

    [Theory]
    [InlineData("# no front matter\n", "must start with a front matter block")]
    [InlineData("---\nid: x\ntitle: X\ndomain: runbooks\n# never closed\n", "not closed")]
    [InlineData("---\nid: x\ntitle: X\n---\nbody\n", "missing 'domain'")]
    [InlineData("---\nid: x\ndomain: runbooks\n---\nbody\n", "missing 'title'")]
    [InlineData("---\ntitle: X\ndomain: runbooks\n---\nbody\n", "missing 'id'")]
    [InlineData("---\nid:\ntitle: X\ndomain: runbooks\n---\nbody\n", "missing 'id'")]
    [InlineData("---\nid: x\ntitle: X\ndomain: runbooks\njust words\n---\nbody\n", "not 'key: value'")]
    [InlineData("---\nid: x\nid: y\ntitle: X\ndomain: runbooks\n---\nbody\n", "appears twice")]
    [InlineData("---\nid: Has Spaces\ntitle: X\ndomain: runbooks\n---\nbody\n", "must use only a-z")]
    [InlineData("---\nid: x\ntitle: X\ndomain: runbooks\n---\n\n", "no content")]
    public void FailsNamingTheFileGivenMalformedFrontMatter(string text, string expected)
    {
        Write("good.md", "---\nid: good\ntitle: Good\ndomain: operations\n---\nfine\n");
        Write("runbooks/broken.md", text);

        var error = Assert.Throws<CorpusException>(() => CorpusLoader.Load(folder));

        Assert.Contains("'runbooks/broken.md'", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FailsNamingBothFilesGivenDuplicateIds()
    {
        Write("a.md", "---\nid: same\ntitle: A\ndomain: operations\n---\na\n");
        Write("b.md", "---\nid: same\ntitle: B\ndomain: operations\n---\nb\n");

        var error = Assert.Throws<CorpusException>(() => CorpusLoader.Load(folder));

        Assert.Contains("'b.md'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'a.md'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FailsGivenMissingOrEmptyFolder()
    {
        Assert.Contains("does not exist", Assert.Throws<CorpusException>(() => CorpusLoader.Load(Path.Combine(folder, "nope"))).Message, StringComparison.Ordinal);
        Assert.Contains("no *.md files", Assert.Throws<CorpusException>(() => CorpusLoader.Load(folder)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RetrieverCreateFailsStartUpGivenBrokenCorpus()
    {
        Write("bad.md", "---\nid: bad\n");

        var error = Assert.Throws<CorpusException>(() => LuceneRetriever.Create(new RetrievalOptions { CorpusPath = folder }));

        Assert.Contains("'bad.md'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolvesRelativeCorpusPathAgainstAppBaseDirectory()
    {
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "corpus"), new RetrievalOptions().ResolveCorpusPath());
        Assert.Equal(folder, new RetrievalOptions { CorpusPath = folder }.ResolveCorpusPath());
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
