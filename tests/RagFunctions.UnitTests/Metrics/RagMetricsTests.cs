using System.Text;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.UnitTests.Metrics;

public sealed class RagMetricsTests
{
    private static async Task<string> ExportAsync(RagMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    [Fact]
    public async Task TheCostCounterExposesTheExactDecimalSumOfTheCostsNotABinaryOne()
    {
        var metrics = new RagMetrics("test", ["m"], ["default"]);
        var model = metrics.ForModel("m", "default");
        double binary = 0;
        for (var i = 0; i < 11; i++)
        {
            model.AddCost(0.00000192m);
            binary += 0.00000192;
        }

        // Summed in binary, eleven queries' cost is not 0.00002112; the ledger reads the pushed text as a decimal.
        Assert.NotEqual(0.00002112, binary);
        var line = (await ExportAsync(metrics)).Split('\n').Single(l => l.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal));
        Assert.Equal("rag_cost_dollars_total{model=\"m\",tenant=\"default\",environment=\"test\"} 2.112e-05", line);
    }

    [Fact]
    public async Task OnlyTheFleetSeriesAreExposedBeforeTheirFirstUpdate()
    {
        var metrics = new RagMetrics("test", ["amazon.nova-lite-v1:0"], ["default"]);

        var text = await ExportAsync(metrics);

        // The fleet set: every request outcome, and one zero series per rare-event family a panel or alert reads.
        foreach (var trigger in new[] { "http", "queue" })
        {
            foreach (var outcome in new[] { "success", "invalid", "throttled", "unavailable", "error", "budget_exhausted" })
            {
                Assert.Contains($"rag_requests_total{{trigger=\"{trigger}\",outcome=\"{outcome}\",tenant=\"default\",environment=\"test\"}} 0", text, StringComparison.Ordinal);
            }

            Assert.Contains($"rag_budget_rejections_total{{tenant=\"default\",trigger=\"{trigger}\",environment=\"test\"}} 0", text, StringComparison.Ordinal);
        }

        Assert.Contains("rag_llm_errors_total{model=\"amazon.nova-lite-v1:0\",error_type=\"throttling\",environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_no_context_total{environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_poison_messages_total{environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_metrics_push_failures_total{environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_unpriced_tokens_total{model=\"amazon.nova-lite-v1:0\",environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Equal(19, SampleLines(text).Count);

        // Everything else appears with its first update, a zero increment included (it was touched).
        Assert.DoesNotContain("rag_cost_dollars_total{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("rag_token_usage_total{", text, StringComparison.Ordinal);
        Assert.DoesNotContain(SampleLines(text), l => l.StartsWith("rag_request_duration_seconds", StringComparison.Ordinal));
        Assert.DoesNotContain("error_type=\"timeout\"", text, StringComparison.Ordinal);
        var model = metrics.ForModel("amazon.nova-lite-v1:0", "default");
        model.CacheWriteTokens.Inc(0);
        model.Cost.Inc(0.25);
        metrics.RetrievalStage.Observe(0.02);
        model.CountError(Core.Generation.LlmErrorKind.Timeout);
        metrics.ForFunction("QueryFunction", "http").Succeeded.Inc();

        var touched = await ExportAsync(metrics);

        Assert.Contains("rag_token_usage_total{model=\"amazon.nova-lite-v1:0\",type=\"cache_write\",tenant=\"default\",environment=\"test\"} 0", touched, StringComparison.Ordinal);
        Assert.DoesNotContain("type=\"input\"", touched, StringComparison.Ordinal);
        Assert.Contains("rag_cost_dollars_total{model=\"amazon.nova-lite-v1:0\",tenant=\"default\",environment=\"test\"} 0.25", touched, StringComparison.Ordinal);
        Assert.Contains("rag_request_duration_seconds_count{stage=\"retrieval\",environment=\"test\"} 1", touched, StringComparison.Ordinal);
        Assert.DoesNotContain("stage=\"generation\"", touched, StringComparison.Ordinal);
        Assert.Contains("rag_llm_errors_total{model=\"amazon.nova-lite-v1:0\",error_type=\"timeout\",environment=\"test\"} 1", touched, StringComparison.Ordinal);
        Assert.Contains("rag_function_invocations_total{function=\"QueryFunction\",trigger=\"http\",outcome=\"success\",environment=\"test\"} 1", touched, StringComparison.Ordinal);
        Assert.DoesNotContain("outcome=\"failure\"", touched, StringComparison.Ordinal);
        Assert.DoesNotContain("rag_function_duration_seconds_count", touched, StringComparison.Ordinal);
        // 19 + cache_write + cost + retrieval's 11 buckets, +Inf, sum, count + timeout + invocation.
        Assert.Equal(19 + 1 + 1 + 14 + 1 + 1, SampleLines(touched).Count);
    }

    private static List<string> SampleLines(string text) => [.. text.Split('\n').Where(l => l.Length > 0 && l[0] != '#')];

    [Fact]
    public async Task DurationHistogramKeepsTheSeedBucketsAndAddsFinerOnes()
    {
        var metrics = new RagMetrics("test", [], ["default"]);
        metrics.TotalStage.Observe(0.02);

        var text = await ExportAsync(metrics);

        foreach (var le in new[] { "0.005", "0.01", "0.025", "0.05", "0.1", "0.5", "1", "2", "5", "10", "20", "+Inf" })
        {
            Assert.Contains($"rag_request_duration_seconds_bucket{{stage=\"total\",environment=\"test\",le=\"{le}\"}}", text, StringComparison.Ordinal);
        }

        Assert.Contains("rag_request_duration_seconds_bucket{stage=\"total\",environment=\"test\",le=\"0.025\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("rag_request_duration_seconds_bucket{stage=\"total\",environment=\"test\",le=\"0.01\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfiguredTenantsLabelCostTokensAndRequestsOnlyDefaultIsPrePublishedAndAnUnknownTenantCountsAsDefault()
    {
        var metrics = new RagMetrics("test", ["m"], ["acme", "default"]);

        var before = await ExportAsync(metrics);
        Assert.DoesNotContain("tenant=\"acme\"", before, StringComparison.Ordinal);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"default\",environment=\"test\"} 0", before, StringComparison.Ordinal);

        metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Success, "acme");
        metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Success, "someone-else");
        metrics.ForModel("m", "acme").Cost.Inc(0.5);
        metrics.ForModel("m", "acme").InputTokens.Inc(7);
        metrics.ForModel("m", "not-configured").Cost.Inc(0.25);

        var text = await ExportAsync(metrics);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"acme\",environment=\"test\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"default\",environment=\"test\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("rag_requests_total{trigger=\"queue\",outcome=\"success\",tenant=\"acme\"", text, StringComparison.Ordinal);
        Assert.Contains("rag_cost_dollars_total{model=\"m\",tenant=\"acme\",environment=\"test\"} 0.5", text, StringComparison.Ordinal);
        Assert.Contains("rag_token_usage_total{model=\"m\",type=\"input\",tenant=\"acme\",environment=\"test\"} 7", text, StringComparison.Ordinal);
        Assert.Contains("rag_cost_dollars_total{model=\"m\",tenant=\"default\",environment=\"test\"} 0.25", text, StringComparison.Ordinal);
        Assert.DoesNotContain("someone-else", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not-configured", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BudgetRejectionsCountPerTenantAndTriggerAndAnUnknownTenantCountsAsDefault()
    {
        var metrics = new RagMetrics("test", [], ["acme", "default"]);

        metrics.BudgetRejected(QueryOrigin.Http, "acme");
        metrics.BudgetRejected(QueryOrigin.Queue, "acme");
        metrics.BudgetRejected(QueryOrigin.Queue, "acme");
        metrics.BudgetRejected(QueryOrigin.Http, "someone-else");

        var text = await ExportAsync(metrics);
        Assert.Contains("rag_budget_rejections_total{tenant=\"acme\",trigger=\"http\",environment=\"test\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("rag_budget_rejections_total{tenant=\"acme\",trigger=\"queue\",environment=\"test\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("rag_budget_rejections_total{tenant=\"default\",trigger=\"http\",environment=\"test\"} 1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("someone-else", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestCountsLandOnTheirOwnTriggerAndOutcome()
    {
        var metrics = new RagMetrics("test", [], ["default"]);

        metrics.QueryCompleted(QueryOrigin.Queue, QueryOutcome.Unavailable, "default");
        metrics.QueryCompleted(QueryOrigin.Queue, QueryOutcome.Unavailable, "default");
        metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Success, "default");

        var text = await ExportAsync(metrics);
        Assert.Contains("rag_requests_total{trigger=\"queue\",outcome=\"unavailable\",tenant=\"default\",environment=\"test\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"success\",tenant=\"default\",environment=\"test\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"unavailable\",tenant=\"default\",environment=\"test\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public void EachInstanceOwnsItsRegistry()
    {
        var a = new RagMetrics("test", ["m"], ["default"]);
        var b = new RagMetrics("test", ["m"], ["default"]);

        a.ForModel("m", "default").Cost.Inc(1.5);

        Assert.Equal(1.5, a.ForModel("m", "default").Cost.Value);
        Assert.Equal(0, b.ForModel("m", "default").Cost.Value);
    }
}
