using System.Diagnostics;
using System.Globalization;
using System.Text;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>The ledger stays bounded and exact through 10,000 short pod lifetimes (real Pushgateway, Azurite and ledger process).</summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerRetirementTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan PodLife = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task TenThousandShortLivedInstancesLeaveNoGroupAndAreCountedExactly()
    {
        const int lifetimes = 10_000;
        const int concurrency = 40;
        // A pod whose next push comes later than this is retired, and its later pushes are dropped (tombstoned). The
        // simulated pods push back to back, but at a load average of 20+ on 2 cores one stalled for over 2 s; 5 s leaves room.
        const double staleAfter = 5;
        const double retirementSlack = 20;
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var settings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "bounded" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 0.5, staleAfter: staleAfter, hold: 0, lease: 3);
        settings["ReplicaId"] = "bounded";
        using var ledger = LedgerProcess.Start(settings);
        using var http = new HttpClient();
        var started = 0;
        var truth = new SeriesTruth();
        var maxGroups = 0;
        var maxAge = 0.0;
        using var stopMonitor = new CancellationTokenSource();
        var monitor = Task.Run(async () =>
        {
            while (!stopMonitor.IsCancellationRequested)
            {
                var groups = await pushgateway.GroupsAsync();
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                maxGroups = Math.Max(maxGroups, groups.Count);
                maxAge = Math.Max(maxAge, groups.Where(g => g.Labels["job"] == "rag-functions").Select(g => now - g.PushTime).DefaultIfEmpty(0).Max());
                await Task.Delay(500);
            }
        });

        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (Interlocked.Increment(ref started) <= lifetimes)
            {
                var final = await LiveOnceAsync(http, pushgateway.Url, $"tiny-{worker}-{random.Next():x8}", random, killed: random.Next(5) == 0);
                lock (truth)
                {
                    truth.Add(final);
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        var pushedIn = watch.Elapsed;

        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 0, TimeSpan.FromSeconds(30), "all instance groups retired");
        await Poll.UntilAsync(async () => SeriesComparison.Mismatches(truth.Totals, await LedgerCheck.LedgerTotalsAsync(ledger)).Count == 0, TimeSpan.FromSeconds(10), "ledger's /metrics equals the truth",
            () => string.Join('\n', SeriesComparison.Mismatches(truth.Totals, LedgerCheck.LedgerTotalsAsync(ledger).GetAwaiter().GetResult()).Take(10)) +
                "\nledger self-metrics (a retired group pushed again is a pod that stalled past StaleAfter):\n" +
                string.Join('\n', ledger.ScrapeAsync().GetAwaiter().GetResult().Split('\n').Where(l => l.StartsWith("rag_ledger_", StringComparison.Ordinal))));
        await stopMonitor.CancelAsync();
        await monitor;

        var cost = truth.Totals.Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal)).Sum(t => t.Value);
        output.WriteLine($"{lifetimes} lifetimes ({concurrency} at a time) pushed in {pushedIn}; max groups seen {maxGroups}, oldest group {maxAge:F1} s after its last push, " +
            $"groups left {(await pushgateway.GroupsAsync()).Count}; truth cost {cost.ToString("R", CultureInfo.InvariantCulture)}; total {watch.Elapsed}");
        // Retirement keeps up: no group outlives the stale age by more than the slack a starved machine needs. Measured on
        // 2 cores: 3.8 s idle, 6.6 s beside one CPU hog, 12.4 s beside two; a group that leaked would age with the run (60+ s).
        Assert.InRange(maxAge, 0, staleAfter + retirementSlack);
        // Live groups ≈ lifetimes per second (at most 40 / 0.2 s = 200) × (StaleAfter + fold lag): about 1,200; a leak
        // would keep all 10,000.
        Assert.InRange(maxGroups, 1, lifetimes / 4);
        Assert.Empty(SeriesComparison.Mismatches(truth.Totals, await LedgerCheck.LedgerTotalsAsync(ledger)));
        Assert.DoesNotContain("Crash", ledger.Output, StringComparison.Ordinal);
    }

    /// <summary>One tiny pod: a start-up push at 0, a query, a push; a clean one adds a query and its shutdown push.</summary>
    private static async Task<string> LiveOnceAsync(HttpClient http, Uri pushgateway, string instance, Random random, bool killed)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        var cost = factory.CreateCounter("rag_cost_dollars_total", "Total estimated cost of the RAG pipeline in USD.",
            new Prometheus.CounterConfiguration { LabelNames = ["model", "environment"] }).WithLabels("local-extractive", "it");
        var documents = factory.CreateHistogram("rag_retrieved_documents", "Passages retrieved per query.",
            new Prometheus.HistogramConfiguration { LabelNames = ["environment"], Buckets = [0, 1, 2, 5] }).WithLabels("it");
        var url = new Uri(pushgateway, $"/metrics/job/rag-functions/instance/{instance}");
        await PutAsync(http, url, registry);
        // A pod lives a while. Back to back, the Pushgateway (no per-push check) takes all 10,000 lifetimes in ~6 s, less
        // than the stale age, so every group would be alive at once and the run could not tell retirement from a leak.
        await Task.Delay(PodLife);
        for (var queries = killed ? 1 : 2; queries > 0; queries--)
        {
            cost.Inc(random.NextDouble() / 1000);
            documents.Observe(random.Next(0, 7));
            await PutAsync(http, url, registry);
        }

        using var final = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(final);
        return Encoding.UTF8.GetString(final.ToArray());
    }

    private static async Task PutAsync(HttpClient http, Uri url, Prometheus.CollectorRegistry registry)
    {
        using var body = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(body);
        using var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");
        using var response = await http.PutAsync(url, content);
        response.EnsureSuccessStatusCode();
    }
}
