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
    public async Task EveryConfiguredSeriesIsExposedAtZeroBeforeItsFirstIncrement()
    {
        var metrics = new RagMetrics("test", ["amazon.nova-lite-v1:0"]);

        var text = await ExportAsync(metrics);

        Assert.Contains("rag_cost_dollars_total{model=\"amazon.nova-lite-v1:0\",environment=\"test\"} 0", text, StringComparison.Ordinal);
        foreach (var type in new[] { "input", "output", "cache_read", "cache_write" })
        {
            Assert.Contains($"rag_token_usage_total{{model=\"amazon.nova-lite-v1:0\",type=\"{type}\",environment=\"test\"}} 0", text, StringComparison.Ordinal);
        }

        foreach (var stage in new[] { "retrieval", "generation", "total", "total_error" })
        {
            Assert.Contains($"rag_request_duration_seconds_count{{stage=\"{stage}\",environment=\"test\"}} 0", text, StringComparison.Ordinal);
        }

        Assert.Contains("rag_requests_total{trigger=\"queue\",outcome=\"throttled\",environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_llm_errors_total{model=\"amazon.nova-lite-v1:0\",error_type=\"throttling\",environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_no_context_total{environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_poison_messages_total{environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_metrics_push_failures_total{environment=\"test\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("rag_unpriced_tokens_total{model=\"amazon.nova-lite-v1:0\",environment=\"test\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DurationHistogramKeepsTheSeedBucketsAndAddsFinerOnes()
    {
        var metrics = new RagMetrics("test", []);
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
    public async Task RequestCountsLandOnTheirOwnTriggerAndOutcome()
    {
        var metrics = new RagMetrics("test", []);

        metrics.QueryCompleted(QueryOrigin.Queue, QueryOutcome.Unavailable);
        metrics.QueryCompleted(QueryOrigin.Queue, QueryOutcome.Unavailable);
        metrics.QueryCompleted(QueryOrigin.Http, QueryOutcome.Success);

        var text = await ExportAsync(metrics);
        Assert.Contains("rag_requests_total{trigger=\"queue\",outcome=\"unavailable\",environment=\"test\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"success\",environment=\"test\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("rag_requests_total{trigger=\"http\",outcome=\"unavailable\",environment=\"test\"} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public void EachInstanceOwnsItsRegistry()
    {
        var a = new RagMetrics("test", ["m"]);
        var b = new RagMetrics("test", ["m"]);

        a.ForModel("m").Cost.Inc(1.5);

        Assert.Equal(1.5, a.ForModel("m").Cost.Value);
        Assert.Equal(0, b.ForModel("m").Cost.Value);
    }
}
