using RagFunctions.Ledger;

namespace RagFunctions.UnitTests.Ledger;

public sealed class LedgerExpositionTests
{
    private static readonly LedgerSelfMetrics Self = new(100, 2, LastFoldSeconds: 0.25);

    private static LedgerState StateWithCostAndHistogram(double? firstServedAt)
    {
        var state = new LedgerState();
        state.Families["rag_cost_dollars_total"] = new("counter", "Total estimated cost of the RAG pipeline in USD.");
        state.Families["rag_retrieved_documents"] = new("histogram", "Passages retrieved per query.");
        state.Units["c"] = new LedgerUnit
        {
            Family = "rag_cost_dollars_total",
            Labels = "environment=\"dev\",model=\"m\"",
            FirstServedAt = firstServedAt,
            Values = { [SamplePart.Counter] = 0.1 + 0.2 },
        };
        state.Units["h"] = new LedgerUnit
        {
            Family = "rag_retrieved_documents",
            Labels = "environment=\"dev\"",
            FirstServedAt = firstServedAt,
            Values =
            {
                [SamplePart.Bucket(double.PositiveInfinity)] = 3,
                [SamplePart.Bucket(1)] = 1,
                [SamplePart.Bucket(1e-6)] = 0,
                [SamplePart.Sum] = 4.5,
                [SamplePart.Count] = 3,
            },
        };
        return state;
    }

    [Fact]
    public void RendersANewSeriesAtZeroAndReportsItServedForTheFirstTime()
    {
        var state = StateWithCostAndHistogram(firstServedAt: null);

        var (text, firstServed) = LedgerExposition.Render(state, 100, 60, Self);

        Assert.Contains("rag_cost_dollars_total{environment=\"dev\",model=\"m\"} 0\n", text);
        Assert.Contains("rag_retrieved_documents_bucket{environment=\"dev\",le=\"+Inf\"} 0\n", text);
        Assert.Contains("rag_retrieved_documents_sum{environment=\"dev\"} 0\n", text);
        Assert.Contains("rag_retrieved_documents_count{environment=\"dev\"} 0\n", text);
        Assert.Equal(2, firstServed.Count);
    }

    [Fact]
    public void KeepsASeriesAtZeroUntilTheHoldHasPassedSinceItWasFirstServed()
    {
        var state = StateWithCostAndHistogram(firstServedAt: 50);

        var (held, firstServed) = LedgerExposition.Render(state, 109.9, 60, Self);
        var (exposed, _) = LedgerExposition.Render(state, 110, 60, Self);

        Assert.Empty(firstServed);
        Assert.Contains("rag_cost_dollars_total{environment=\"dev\",model=\"m\"} 0\n", held);
        Assert.Contains("rag_cost_dollars_total{environment=\"dev\",model=\"m\"} 0.30000000000000004\n", exposed);
    }

    [Fact]
    public void RendersHistogramsAsBucketsInBoundOrderThenSumAndCountWithTypeAndHelp()
    {
        var (text, _) = LedgerExposition.Render(StateWithCostAndHistogram(firstServedAt: 0), 100, 60, Self);

        var expected = """
            # HELP rag_retrieved_documents Passages retrieved per query.
            # TYPE rag_retrieved_documents histogram
            rag_retrieved_documents_bucket{environment="dev",le="1E-06"} 0
            rag_retrieved_documents_bucket{environment="dev",le="1"} 1
            rag_retrieved_documents_bucket{environment="dev",le="+Inf"} 3
            rag_retrieved_documents_sum{environment="dev"} 4.5
            rag_retrieved_documents_count{environment="dev"} 3

            """;
        Assert.Contains(expected.Replace("\r\n", "\n", StringComparison.Ordinal), text);
        Assert.Contains("# TYPE rag_cost_dollars_total counter\n", text);
    }

    [Fact]
    public void ExposesItsOwnMetricsUnderTheNeverFoldedPrefix()
    {
        var state = StateWithCostAndHistogram(firstServedAt: 0);
        state.Counters.GroupsRetired = 7;

        var (text, _) = LedgerExposition.Render(state, 100, 60, Self);

        Assert.Contains("rag_ledger_groups_retired_total 7\n", text);
        Assert.Contains("rag_ledger_last_fold_timestamp_seconds 100\n", text);
        Assert.Contains("rag_ledger_pushgateway_groups 2\n", text);
        Assert.Contains("rag_ledger_fold_seconds 0.25\n", text);
    }
}
