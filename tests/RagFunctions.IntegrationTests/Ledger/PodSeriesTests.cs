using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// What one pod lifetime costs the TSDB: a real Prometheus, configured with the Pushgateway ServiceMonitor's
/// metricRelabelings read from the Terraform values file, scrapes a real Pushgateway holding a pod's real registry
/// payload, and the real ledger's /metrics as job rag-ledger. The pod keeps at most 16 series; the ledger keeps all.
/// </summary>
public sealed class PodSeriesTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int MaxSeriesPerPod = 16;

    [Fact]
    public async Task APodLifetimeStoresAtMostSixteenSeriesAndEveryLedgerSeriesIsKept()
    {
        await using var pushgateway = await PushgatewayServer.StartAsync();
        using var ledger = LedgerCheck.Start(pushgateway, azurite);
        await ledger.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port, [ledger.MetricsPort]);

        var pod = new SimulatedInstance(pushgateway.Url, 0, new Random(12));
        var pushed = SeriesCounts(await pod.RunAsync(TimeSpan.FromSeconds(2), killed: false, replayFinalPush: false));
        await prometheus.UntilScrapedAsync("pushgateway");

        var stored = await StoredCountsAsync(prometheus, $"instance=\"{pod.Instance}\"");
        output.WriteLine($"pod {pod.Instance}: pushed {pushed.Values.Sum()} series ({pushed.Count} names), " +
            $"Prometheus stored {stored.Values.Sum()}: {string.Join(", ", stored.Select(s => $"{s.Key}×{s.Value}"))}");
        // What the fleet views, the rules and verify read per pod is still there.
        Assert.Contains("push_time_seconds", stored.Keys);
        Assert.Contains("rag_requests_total", stored.Keys);
        Assert.Equal(pushed["rag_requests_total"], stored["rag_requests_total"]);
        Assert.InRange(stored.Values.Sum(), 1, MaxSeriesPerPod);

        // The ledger's job is not relabelled away: every series its /metrics serves is stored, including the pod's totals
        // that the per-pod scrape dropped.
        var ledgerServed = new Dictionary<string, int>();
        var ledgerStored = new Dictionary<string, int>();
        await Poll.UntilAsync(async () =>
        {
            ledgerServed = SeriesCounts(await ledger.ScrapeAsync());
            await prometheus.UntilScrapedAsync("rag-ledger");
            ledgerStored = await StoredCountsAsync(prometheus, "job=\"rag-ledger\"");
            return ledgerServed.Count > 0 && ledgerServed.All(s => ledgerStored.GetValueOrDefault(s.Key) == s.Value)
                && ledgerStored.ContainsKey("rag_cost_dollars_total");
        }, TimeSpan.FromSeconds(60), "Prometheus stores every series the ledger serves, the pod's folded cost among them",
            () => $"served but not stored as served: {string.Join(", ", ledgerServed.Where(s => ledgerStored.GetValueOrDefault(s.Key) != s.Value).Select(s => $"{s.Key} {s.Value}≠{ledgerStored.GetValueOrDefault(s.Key)}"))}");
        output.WriteLine($"ledger: served and stored {ledgerStored.Values.Sum()} series ({ledgerStored.Count} names)");
    }

    /// <summary>Series per metric name of an exposition text (sample lines only).</summary>
    private static Dictionary<string, int> SeriesCounts(string exposition) =>
        exposition.Split('\n').Where(line => line.Length > 0 && line[0] != '#')
            .GroupBy(line => line[..line.IndexOfAny(['{', ' '])], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Series per metric name Prometheus stores (as of its latest scrape) for one label matcher.</summary>
    private static async Task<Dictionary<string, int>> StoredCountsAsync(PrometheusServer prometheus, string matcher) =>
        (await prometheus.QueryAsync($"count by (__name__) ({{{matcher}}})"))
            .ToDictionary(s => s.Labels["__name__"], s => (int)s.Value, StringComparer.Ordinal);
}
