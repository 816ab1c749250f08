using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// Pods push only the series they have touched (plus the fleet set), so a pod's group grows during its life. On a real
/// Pushgateway, Azurite and ledger process: every pod's first push carries the fleet set only; later pushes add
/// histograms (all their buckets), a configured model's first cost, another error type and function, and, in some pods,
/// a model no pod has pushed before. After every phase the ledger equals the sum of the groups exactly; at the end it
/// equals the truth (the sum of each pod's final push); and a ledger series that first appears mid-run is served at 0
/// first (its first-sample hold), so Prometheus' rate() counts its first increase.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class TouchedSeriesTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string UsedModel = "amazon.nova-lite-v1:0";
    private const string LaterModel = "local-extractive";
    private const string UnseenModel = "anthropic.claude-3-5-haiku-20241022-v1:0";
    private const int Pods = 6;

    /// <summary>
    /// The fleet set of a pod configured with two models: 12 request outcomes (6 per trigger), 3 scalars, budget
    /// rejections per trigger, throttling and unpriced per model.
    /// </summary>
    private const int FleetSeries = 12 + 3 + 2 + (2 * 2);

    [Fact]
    public async Task TheLedgerStaysExactWhenPodsPushOnlyTouchedSeriesThatAppearMidLife()
    {
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var settings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "touched" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 0.5, staleAfter: 600, hold: 1, lease: 3);
        settings["ReplicaId"] = "touched";
        using var ledger = LedgerProcess.Start(settings);
        await ledger.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        var random = new Random(2026);
        var pods = Enumerable.Range(0, Pods).Select(i => new SimulatedInstance(pushgateway.Url, i, random)).ToList();

        // Phase 1: the start-up push carries the fleet set only.
        await Task.WhenAll(pods.Select(p => p.PushUntilAcceptedAsync()));
        foreach (var pod in pods)
        {
            var first = SampleLines(await pod.ExpositionAsync());
            Assert.Equal(FleetSeries, first.Count);
            Assert.DoesNotContain(first, l => l.StartsWith("rag_cost_dollars_total", StringComparison.Ordinal) || l.Contains("_bucket", StringComparison.Ordinal));
        }

        await ConvergeAsync(pushgateway, ledger, "fleet set only");

        // Phase 2: each pod's first query with one model: cost, tokens, stage and query-cost histograms, one function.
        foreach (var (pod, i) in pods.Select((p, i) => (p, i)))
        {
            Query(pod.Metrics, UsedModel, i, QueryOrigin.Http);
            pod.Metrics.ForFunction("QueryFunction", "http").Succeeded.Inc();
            pod.Metrics.ForFunction("QueryFunction", "http").Duration.Observe(0.3 + (i * 0.1));
        }

        var grown = await PushAllAsync(pods);
        Assert.All(grown, count => Assert.InRange(count, FleetSeries + 80, 200));
        await ConvergeAsync(pushgateway, ledger, "after the first query");

        // Phase 3, mid-life: the second configured model's first spend, a new error type, a failed stage, a queue function,
        // and in half the pods a model that no pod has pushed before (a ledger series that is new mid-run).
        var ledgerKey = SeriesTruth.Key("rag_cost_dollars_total", new Dictionary<string, string> { ["model"] = UnseenModel, ["tenant"] = "default", ["environment"] = "it" });
        foreach (var (pod, i) in pods.Select((p, i) => (p, i)))
        {
            Query(pod.Metrics, LaterModel, i, QueryOrigin.Queue);
            pod.Metrics.ForModel(LaterModel, "default").CountError(LlmErrorKind.Timeout);
            pod.Metrics.TotalErrorStage.Observe(1.5);
            pod.Metrics.ForFunction("ProcessQueryMessage", "queue").Failed.Inc();
            if (i % 2 == 1)
            {
                Query(pod.Metrics, UnseenModel, i, QueryOrigin.Queue);
            }
        }

        var before = await PushAllAsync(pods);
        Assert.All(before.Zip(grown), p => Assert.True(p.First > p.Second, $"phase 3 pushed {p.First} series, phase 2 {p.Second}"));
        var firstServed = await ConvergeAsync(pushgateway, ledger, "after series appeared mid-life", ledgerKey);
        Assert.True(firstServed == 0, $"{ledgerKey} was first served at {firstServed}, not held at 0");

        // Phase 4: more of everything, then each pod's last push. The truth is the sum of the final bodies.
        foreach (var (pod, i) in pods.Select((p, i) => (p, i)))
        {
            Query(pod.Metrics, UsedModel, i + 7, QueryOrigin.Http);
            Query(pod.Metrics, LaterModel, i + 11, QueryOrigin.Queue);
        }

        await PushAllAsync(pods);
        var truth = new SeriesTruth();
        foreach (var pod in pods)
        {
            truth.Add(await pod.ExpositionAsync());
        }

        await Poll.UntilAsync(async () => SeriesComparison.Mismatches(truth.Totals, await LedgerCheck.LedgerTotalsAsync(ledger)).Count == 0,
            TimeSpan.FromSeconds(30), "the ledger equals the sum of the pods' final pushes",
            () => string.Join('\n', SeriesComparison.Mismatches(truth.Totals, LedgerCheck.LedgerTotalsAsync(ledger).GetAwaiter().GetResult()).Take(20)));
        var ledgerTotals = await LedgerCheck.LedgerTotalsAsync(ledger);
        Assert.Empty(SeriesComparison.Mismatches(truth.Totals, ledgerTotals));
        Assert.Equal(truth.Totals.Count, ledgerTotals.Count);
        output.WriteLine($"{Pods} pods: first push {FleetSeries} series, after one query {grown.Min()}–{grown.Max()}, after mid-life series {before.Min()}–{before.Max()}; " +
            $"ledger serves {ledgerTotals.Count} series, equal to the truth; {ledgerKey} first served at {firstServed}");
    }

    /// <summary>One metered query, as RagPipeline and MeteredAnswerGenerator record it.</summary>
    private static void Query(RagMetrics metrics, string modelId, int seed, QueryOrigin trigger)
    {
        var model = metrics.ForModel(modelId, "default");
        var cost = 0.0001 * (seed + 1);
        model.Cost.Inc(cost);
        model.QueryCost.Observe(cost);
        model.InputTokens.Inc(1000 + seed);
        model.OutputTokens.Inc(100 + seed);
        model.CacheReadTokens.Inc(seed * 3);
        model.CacheWriteTokens.Inc(0);
        metrics.RetrievalStage.Observe(0.001 * (seed + 1));
        metrics.RetrievedDocuments.Observe(seed % 6);
        metrics.GenerationStage.Observe(0.4 + (seed * 0.05));
        metrics.TotalStage.Observe(0.41 + (seed * 0.05));
        metrics.QueryCompleted(trigger, QueryOutcome.Success, "default");
    }

    private static async Task<int[]> PushAllAsync(IReadOnlyList<SimulatedInstance> pods)
    {
        await Task.WhenAll(pods.Select(p => p.PushUntilAcceptedAsync()));
        return await Task.WhenAll(pods.Select(async p => SampleLines(await p.ExpositionAsync()).Count));
    }

    /// <summary>
    /// Waits until the ledger serves exactly the sum of the groups; returns the first value the ledger served for
    /// <paramref name="watchKey"/> (NaN if it never served it), polling often enough to see a held zero.
    /// </summary>
    private static async Task<double> ConvergeAsync(PushgatewayServer pushgateway, LedgerProcess ledger, string phase, string? watchKey = null)
    {
        var firstServed = double.NaN;
        var mismatches = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var pushed = await LedgerCheck.SumOfJobAsync(pushgateway, "rag-functions");
            var folded = await LedgerCheck.LedgerTotalsAsync(ledger);
            if (watchKey is not null && double.IsNaN(firstServed) && folded.TryGetValue(watchKey, out var served))
            {
                firstServed = served;
            }

            mismatches = SeriesComparison.Mismatches(pushed, folded);
            if (mismatches.Count == 0)
            {
                return firstServed;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{phase}: the ledger did not equal the sum of the groups within 30 s:\n{string.Join('\n', mismatches.Take(20))}");
    }

    private static List<string> SampleLines(string exposition) =>
        [.. exposition.Split('\n').Where(line => line.Length > 0 && line[0] != '#')];
}
