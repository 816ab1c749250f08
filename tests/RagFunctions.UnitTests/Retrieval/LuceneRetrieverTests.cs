using System.Diagnostics;
using RagFunctions.Core.Retrieval;

namespace RagFunctions.UnitTests.Retrieval;

public sealed class LuceneRetrieverTests(ShippedCorpus corpus) : IClassFixture<ShippedCorpus>
{
    private readonly LuceneRetriever retriever = corpus.Retriever;

    [Fact]
    public void RanksDailyBudgetRunbookFirstForTheDailyBudgetAlertQuestion()
    {
        var result = retriever.Retrieve("what do I do when the daily budget alert fires?", null, 4);

        Assert.StartsWith("runbook-daily-budget-exceeded", result.Passages[0].Id, StringComparison.Ordinal);
        Assert.Equal("runbooks", result.Passages[0].Domain);
    }

    [Theory]
    [InlineData("the monthly budget was exceeded, what now?", "runbook-monthly-budget-exceeded")]
    [InlineData("Bedrock keeps returning ThrottlingException 429", "runbook-llm-throttling")]
    [InlineData("messages are ending up in rag-queries-poison", "runbook-poison-messages")]
    [InlineData("prometheus cannot scrape the pushgateway, it is down", "runbook-pushgateway-down")]
    [InlineData("the ledger totals are frozen and not updated", "runbook-ledger-stalled")]
    [InlineData("p95 latency is high and answers are slow", "runbook-high-p95-latency")]
    [InlineData("a model has no price in the pricing table", "runbook-unpriced-model-usage")]
    [InlineData("the queue backlog keeps growing and KEDA does not scale", "runbook-queue-backlog-growing")]
    [InlineData("pods fail to push metrics with 401", "runbook-metrics-push-failing")]
    public void RanksTheMatchingRunbookFirst(string question, string expectedDocument)
    {
        var result = retriever.Retrieve(question, "runbooks", 4);

        Assert.False(result.IsEmpty);
        Assert.StartsWith(expectedDocument, result.Passages[0].Id, StringComparison.Ordinal);
    }

    [Fact]
    public void FindsMetricDefinitionBySnakeCaseName()
    {
        var result = retriever.Retrieve("what labels does rag_token_usage_total have?", "metrics", 3);

        Assert.Equal("metrics-reference#rag-token-usage-total", result.Passages[0].Id);
        Assert.Equal("Metric reference — rag_token_usage_total", result.Passages[0].Title);
    }

    [Fact]
    public void SplitsDocumentsIntoSectionPassagesWithSlugIds()
    {
        var ids = retriever.Passages.Select(p => p.Id).ToList();

        Assert.Contains("metrics-reference", ids); // text before the first ## keeps the document id
        Assert.Contains("runbook-daily-budget-exceeded#how-to-fix", ids);
        Assert.Contains("runbook-daily-budget-exceeded#how-to-silence", ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var fix = retriever.Passages.Single(p => p.Id == "runbook-daily-budget-exceeded#how-to-fix");
        Assert.Equal("Runbook — DailyBudgetExceeded alert (daily budget exceeded) — How to fix", fix.Title);
        Assert.DoesNotContain("## ", fix.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("runbooks")]
    [InlineData("metrics")]
    [InlineData("operations")]
    public void RestrictsResultsToTheRequestedDomain(string domain)
    {
        var result = retriever.Retrieve("how is the cost in dollars of tokens calculated for the budget", domain, 10);

        Assert.NotEmpty(result.Passages);
        Assert.All(result.Passages, p => Assert.Equal(domain, p.Domain));
    }

    [Fact]
    public void DomainFilterDoesNotChangeScores()
    {
        const string question = "pushgateway honor_labels ledger";
        var all = retriever.Retrieve(question, null, retriever.Passages.Count).Passages;
        var operations = retriever.Retrieve(question, "operations", 20).Passages;

        Assert.NotEmpty(operations);
        Assert.All(operations, p => Assert.Equal(all.Single(a => a.Id == p.Id).Score, p.Score, 4));
    }

    [Fact]
    public void SearchesAllDomainsGivenNoDomain()
    {
        var result = retriever.Retrieve("budget pushgateway ledger latency metrics", null, 20);

        Assert.Equal(3, result.Passages.Select(p => p.Domain).Distinct().Count());
    }

    [Theory]
    [InlineData("xyzzy quux frobnicate")]
    [InlineData("the and of to")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("?!")]
    public void ReturnsEmptyResultGivenNoMatchingTerms(string question)
    {
        Assert.True(retriever.Retrieve(question, null, 4).IsEmpty);
    }

    [Fact]
    public void ReturnsEmptyResultGivenUnknownDomain()
    {
        Assert.True(retriever.Retrieve("daily budget", "finance", 4).IsEmpty);
    }

    [Theory]
    [InlineData("\"AND OR ( ) * ? : \\ / [ ]")]
    [InlineData("budget AND (daily OR \"monthly")]
    [InlineData("pushgateway~ ^2 {1 TO 5} -ledger +alert && || ! field:value wild*card ?uestion /regex/")]
    [InlineData("[1 TO *] \\\\ \" * ? ")]
    [InlineData("<script>alert(1)</script> %00 \u0000 \uFFFF 😀 日本語")]
    public void NeverThrowsGivenQuerySyntaxInTheQuestion(string question)
    {
        var result = retriever.Retrieve(question, null, 4);

        Assert.True(result.Count <= 4);
    }

    [Fact]
    public void NeverThrowsGivenVeryLongQuestionWithManyDistinctTerms()
    {
        var words = Enumerable.Range(0, 800).Select(i => $"w{i} budget ( ) : * \" [").ToArray();
        var question = string.Join(' ', words)[..4000];

        var result = retriever.Retrieve(question, "runbooks", 4);

        Assert.NotEmpty(result.Passages);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void ReturnsAtMostTopKPassagesBestFirst(int topK)
    {
        var result = retriever.Retrieve("budget cost alert pushgateway ledger", null, topK);

        Assert.Equal(topK, result.Count);
        Assert.Equal(result.Passages.OrderByDescending(p => p.Score).Select(p => p.Id), result.Passages.Select(p => p.Id));
    }

    [Fact]
    public void RejectsTopKBelowOne()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => retriever.Retrieve("budget", null, 0));
    }

    [Fact]
    public void AnswersConcurrentQueriesConsistently()
    {
        var expected = retriever.Retrieve("bedrock throttling quota", null, 4).Passages.Select(p => p.Id).ToList();

        var results = new List<string>[64];
        Parallel.For(0, results.Length, i => results[i] = retriever.Retrieve("bedrock throttling quota", null, 4).Passages.Select(p => p.Id).ToList());

        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void RetrievesTypicalQuestionInAFewMilliseconds()
    {
        const string question = "what do I do when the daily budget alert fires?";
        for (var i = 0; i < 50; i++)
        {
            retriever.Retrieve(question, null, 4);
        }

        var watch = Stopwatch.StartNew();
        const int runs = 200;
        for (var i = 0; i < runs; i++)
        {
            retriever.Retrieve(question, null, 4);
        }

        // Generous bound for a shared 2-core CI machine; typical is well under 1 ms.
        Assert.InRange(watch.Elapsed.TotalMilliseconds / runs, 0, 10);
    }

    [Fact]
    public void IndexesDocumentsGivenInMemory()
    {
        using var small = new LuceneRetriever(
        [
            new CorpusDocument("alpha", "Alpha guide", "operations", "# Alpha\nIntro about zebras.\n## Feeding\nZebras eat grass.\n```\n## not a heading in code\n```", "alpha.md"),
            new CorpusDocument("beta", "Beta guide", "runbooks", "Giraffes eat leaves.", "beta.md"),
        ]);

        Assert.Equal(["alpha", "alpha#feeding", "beta"], small.Passages.Select(p => p.Id));
        Assert.Equal("alpha#feeding", small.Retrieve("what do zebras eat?", null, 1).Passages[0].Id);
        Assert.Equal("beta", small.Retrieve("leaves", null, 5).Passages.Single().Id);
        Assert.True(small.Retrieve("zebras", "runbooks", 5).IsEmpty);
    }
}
