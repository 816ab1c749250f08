using System.Diagnostics;
using System.Globalization;
using System.Text;
using RagFunctions.CrashingLedger;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.Ledger;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// The five ledger invariants against the real Pushgateway, Prometheus and Azurite, with the real pusher over the real
/// registry, the ledger as a real child process killed and crashed at every step, and a Pushgateway restart.
/// </summary>
public sealed class LedgerInvariantTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const double HoldSeconds = 4;
    private const double StaleAfterSeconds = 6;
    private const string LedgerSeries = "{job=\"rag-ledger\",__name__=~\"rag_.+\",__name__!~\"rag_ledger_.+\"}";

    private static readonly LedgerCycleStep[] CrashPlan = Enum.GetValues<LedgerCycleStep>();

    [Fact]
    public async Task LedgerTotalsAreExactMonotonicAndStartAtZeroThroughCrashesRestartsAndDoubleStarts()
    {
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port);
        var settings = Settings(pushgateway, "ledger" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 1, staleAfter: StaleAfterSeconds, hold: HoldSeconds, lease: 4);

        // The hold is only meaningful once Prometheus scrapes: a zero pushed before its first scrape is never seen.
        await Poll.UntilAsync(async () => (await prometheus.QueryAsync("up{job=\"pushgateway\"} == 1")).Count == 1, TimeSpan.FromSeconds(20), "Prometheus scrapes the Pushgateway");
        var testStart = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        // Double start: replica a (crashing at every step in turn) and replica b, both from the first second.
        var crashes = new List<LedgerCycleStep>();
        using var replicas = new Supervisor(settings, ["a", "b"], [.. CrashPlan], crashes);
        replicas.Start();

        var random = new Random(20240611);
        var truth = new SeriesTruth();
        var retiredReplays = new List<SimulatedInstance>();
        var runs = new List<Task>();
        const int instances = 40;
        for (var i = 0; i < instances; i++)
        {
            var startAt = TimeSpan.FromSeconds(random.NextDouble() * 26);
            var lifetime = TimeSpan.FromSeconds(i % 3 == 0 ? 0.3 + (random.NextDouble() * 0.6) : 1 + (random.NextDouble() * 5));
            var killed = i % 4 == 1;
            var replay = i % 3 == 2;
            var instance = new SimulatedInstance(pushgateway.Url, i, new Random(random.Next()));
            if (i % 10 == 0)
            {
                retiredReplays.Add(instance);
            }

            runs.Add(Task.Run(async () =>
            {
                await Task.Delay(startAt);
                var final = await instance.RunAsync(lifetime, killed, replay);
                lock (truth)
                {
                    truth.Add(final);
                }
            }));
        }

        await Task.Delay(TimeSpan.FromSeconds(16));
        await pushgateway.RestartAsync();
        output.WriteLine($"{watch.Elapsed}: Pushgateway restarted (persistence file kept)");

        await Task.Delay(TimeSpan.FromSeconds(10));
        var holder = replicas.Pause();
        output.WriteLine($"{watch.Elapsed}: lease holder {holder} SIGKILLed and kept down; crashes so far: {string.Join(", ", crashes)}");
        await Task.Delay(TimeSpan.FromSeconds(6));
        replicas.Resume();
        await Task.WhenAll(runs);
        output.WriteLine($"{watch.Elapsed}: all {instances} instances ended");

        // A late re-push of instances already retired must be dropped, not counted again.
        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 1, TimeSpan.FromSeconds(30), "stale groups retired");
        foreach (var instance in retiredReplays)
        {
            await instance.PushUntilAcceptedAsync();
        }

        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 1, TimeSpan.FromSeconds(15), "re-pushed retired groups deleted again");
        await Poll.UntilAsync(async () => SeriesComparison.Mismatches(truth.Totals, await prometheus.QueryAsync(LedgerSeries)).Count == 0, TimeSpan.FromSeconds(20), "ledger series equal the truth in Prometheus");
        await Task.Delay(TimeSpan.FromSeconds(2 * PrometheusServer.ScrapeIntervalSeconds));

        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var window = $"{(int)Math.Ceiling(end - testStart) + 5}s";
        replicas.Dispose();

        // 1 Conservation.
        var latest = await prometheus.QueryAsync(LedgerSeries);
        Assert.Empty(SeriesComparison.Mismatches(truth.Totals, latest));
        Assert.Equal(truth.Totals.Count, latest.Count);

        // 2 First sample: 0, and still 0 two scrape intervals later.
        var raw = await prometheus.RawSamplesAsync($"{LedgerSeries}[{window}]");
        Assert.Equal(truth.Totals.Count, raw.Count);
        var shortestHold = double.MaxValue;
        foreach (var (labels, samples) in raw)
        {
            Assert.True(samples[0].Value == 0, $"{Name(labels)} first sample is {samples[0].Value}");
            var firstIncrement = samples.FirstOrDefault(s => s.Value != 0);
            if (firstIncrement != default)
            {
                var held = firstIncrement.Time - samples[0].Time;
                shortestHold = Math.Min(shortestHold, held);
                Assert.True(held >= 2 * PrometheusServer.ScrapeIntervalSeconds,
                    $"{Name(labels)} left 0 after {held} s: {string.Join(" ", samples.Take(8).Select(p => $"{p.Time - testStart:F1}={p.Value}"))}");
            }
        }

        // 3 No reset, by Prometheus and by the raw samples.
        // resets() drops __name__, so it runs per metric name (a histogram's label sets only differ by name).
        foreach (var name in raw.Select(r => r.Labels["__name__"]).Distinct())
        {
            Assert.Empty(await prometheus.QueryAsync($"resets({{job=\"rag-ledger\",__name__=\"{name}\"}}[{window}]) > 0"));
        }

        Assert.All(raw, series => Assert.True(series.Samples.Zip(series.Samples.Skip(1)).All(p => p.Second.Value >= p.First.Value), Name(series.Labels)));

        // 4 Bounded: nothing alive, only the ledger's group is left.
        var groups = await pushgateway.GroupsAsync();
        Assert.Equal("rag-ledger", Assert.Single(groups).Labels["job"]);

        // 5 Idempotent: double start, replayed final pushes, re-pushed retired groups and every crash step are covered above.
        Assert.Equal(CrashPlan.ToHashSet(), crashes.ToHashSet()); // Every step of the plan crashed once, in some replica.

        var costTruth = truth.Totals.Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal)).Sum(t => t.Value);
        var naive = (await prometheus.QueryAsync($"sum(increase(rag_cost_dollars_total{{job=\"rag-functions\"}}[{window}]))")).Single().Value;
        var ledgerIncrease = (await prometheus.QueryAsync($"sum(increase(rag_cost_dollars_total{{job=\"rag-ledger\"}}[{window}]))")).Single().Value;
        var ledgerTotal = (await prometheus.QueryAsync("sum(rag_cost_dollars_total{job=\"rag-ledger\"})")).Single().Value;
        output.WriteLine($"instances: {instances} (0.3-0.9 s: {(instances + 2) / 3}, SIGKILLed: {instances / 4}); crashes: {string.Join(", ", crashes)}; window {window}");
        output.WriteLine($"truth cost:                                   {costTruth.ToString("R", CultureInfo.InvariantCulture)}");
        output.WriteLine($"naive sum(increase(...{{job=rag-functions}})): {naive.ToString("R", CultureInfo.InvariantCulture)}  error {Percent(naive, costTruth)}");
        output.WriteLine($"ledger sum(rag_cost_dollars_total{{job=rag-ledger}}): {ledgerTotal.ToString("R", CultureInfo.InvariantCulture)}  rel error {Math.Abs(ledgerTotal - costTruth) / costTruth:E2}");
        output.WriteLine($"ledger sum(increase(...{{job=rag-ledger}})):    {ledgerIncrease.ToString("R", CultureInfo.InvariantCulture)}  error {Percent(ledgerIncrease, costTruth)} (window-edge extrapolation)");
        output.WriteLine($"ledger series: {latest.Count}, shortest zero hold seen: {shortestHold:F2} s, resets: 0, groups left: {groups.Count}, duration {watch.Elapsed}");
        Assert.InRange(Math.Abs(ledgerTotal - costTruth) / costTruth, 0, 1e-9);
    }

    [Fact]
    public async Task TenThousandShortLivedInstancesLeaveOnlyTheLedgerGroupAndAreCountedExactly()
    {
        const int lifetimes = 10_000;
        const int concurrency = 40;
        const double staleAfter = 2;
        const double retirementSlack = 20;
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        using var ledger = LedgerProcess.Start(With(
            Settings(pushgateway, "bounded" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 0.5, staleAfter: staleAfter, hold: 0, lease: 3),
            "ReplicaId", "bounded"));
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

        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 1, TimeSpan.FromSeconds(30), "all instance groups retired");
        await Poll.UntilAsync(async () => SeriesComparison.Mismatches(truth.Totals, await LedgerGroupAsync(pushgateway)).Count == 0, TimeSpan.FromSeconds(10), "ledger group equals the truth");
        await stopMonitor.CancelAsync();
        await monitor;

        var cost = truth.Totals.Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal)).Sum(t => t.Value);
        output.WriteLine($"{lifetimes} lifetimes ({concurrency} at a time) pushed in {pushedIn}; max groups seen {maxGroups}, oldest group {maxAge:F1} s after its last push, " +
            $"groups left {(await pushgateway.GroupsAsync()).Count}; truth cost {cost.ToString("R", CultureInfo.InvariantCulture)}; total {watch.Elapsed}");
        // Retirement keeps up: no group outlives the stale age by more than the slack a starved machine needs. Measured on
        // 2 cores: 3.8 s idle, 6.6 s beside one CPU hog, 12.4 s beside two; a group that leaked would age with the run (60+ s).
        Assert.InRange(maxAge, 0, staleAfter + retirementSlack);
        Assert.InRange(maxGroups, 1, lifetimes / 10);
        Assert.Empty(SeriesComparison.Mismatches(truth.Totals, await LedgerGroupAsync(pushgateway)));
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

    /// <summary>The ledger group's rag_ series read straight from the Pushgateway API, shaped like a Prometheus answer.</summary>
    private static async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> LedgerGroupAsync(PushgatewayServer pushgateway)
    {
        using var http = new HttpClient();
        using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(pushgateway.Url, "/api/v1/metrics")));
        var series = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var group in document.RootElement.GetProperty("data").EnumerateArray())
        {
            if (group.GetProperty("labels").GetProperty("job").GetString() != "rag-ledger")
            {
                continue;
            }

            foreach (var family in group.EnumerateObject().Where(p => p.Name.StartsWith("rag_", StringComparison.Ordinal) && !p.Name.StartsWith("rag_ledger_", StringComparison.Ordinal)))
            {
                foreach (var metric in family.Value.GetProperty("metrics").EnumerateArray())
                {
                    var labels = metric.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty);
                    if (metric.TryGetProperty("buckets", out var buckets))
                    {
                        foreach (var bucket in buckets.EnumerateObject())
                        {
                            series.Add((new Dictionary<string, string>(labels) { ["__name__"] = family.Name + "_bucket", ["le"] = bucket.Name }, Number(bucket.Value)));
                        }

                        series.Add((new Dictionary<string, string>(labels) { ["__name__"] = family.Name + "_sum" }, Number(metric.GetProperty("sum"))));
                        series.Add((new Dictionary<string, string>(labels) { ["__name__"] = family.Name + "_count" }, Number(metric.GetProperty("count"))));
                    }
                    else
                    {
                        series.Add((new Dictionary<string, string>(labels) { ["__name__"] = family.Name }, Number(metric.GetProperty("value"))));
                    }
                }
            }
        }

        return series;

        static double Number(System.Text.Json.JsonElement value) => double.Parse(value.GetString()!, CultureInfo.InvariantCulture);
    }

    private Dictionary<string, string> Settings(PushgatewayServer pushgateway, string table, double foldSeconds, double staleAfter, double hold, double lease) => new()
    {
        ["PushgatewayUrl"] = pushgateway.Url.ToString(),
        ["StorageConnectionString"] = azurite.ConnectionString,
        ["StateTable"] = table,
        ["FoldIntervalSeconds"] = foldSeconds.ToString(CultureInfo.InvariantCulture),
        ["StaleAfterSeconds"] = staleAfter.ToString(CultureInfo.InvariantCulture),
        ["FirstSampleHoldSeconds"] = hold.ToString(CultureInfo.InvariantCulture),
        ["LeaseSeconds"] = lease.ToString(CultureInfo.InvariantCulture),
        ["HttpTimeoutMilliseconds"] = "1000",
        ["TombstoneRetentionSeconds"] = "3600",
    };

    private static Dictionary<string, string> With(Dictionary<string, string> settings, string key, string value) =>
        new(settings) { [key] = value };

    private static string Name(IReadOnlyDictionary<string, string> labels) => SeriesTruth.Key(labels["__name__"], labels);

    private static string Percent(double value, double truth) => ((value - truth) / truth).ToString("P2", CultureInfo.InvariantCulture);

    /// <summary>
    /// Keeps the ledger replicas running, both started at once: after each injected crash the replica restarts with the
    /// next step of the crash plan, so whichever replica holds the lease crashes at every step in turn.
    /// </summary>
    private sealed class Supervisor(Dictionary<string, string> settings, string[] replicas, List<LedgerCycleStep> plan, List<LedgerCycleStep> crashes) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new(); // Not disposed: Dispose may run twice (explicit, then using).
        private readonly object _gate = new();
        private readonly LedgerProcess?[] _current = new LedgerProcess?[replicas.Length];
        private readonly LedgerCycleStep?[] _crashAt = new LedgerCycleStep?[replicas.Length];
        private int _paused = -1;
        private Task? _loop;

        public void Start() => _loop = Task.Run(LoopAsync);

        /// <summary>SIGKILLs the replica that logged the latest commit and keeps it down until <see cref="Resume"/>.</summary>
        public string Pause()
        {
            lock (_gate)
            {
                var active = Enumerable.Range(0, replicas.Length)
                    .OrderByDescending(i => _current[i]?.Output.LastIndexOf("Committed generation", StringComparison.Ordinal) ?? -1).First();
                _paused = active;
                _current[active]?.Kill();
                return replicas[active];
            }
        }

        public void Resume()
        {
            lock (_gate)
            {
                _paused = -1;
            }
        }

        public void Dispose()
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            _stop.Cancel();
            _loop?.Wait(TimeSpan.FromSeconds(5));
            foreach (var process in _current)
            {
                process?.Dispose();
            }
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                lock (_gate)
                {
                    for (var i = 0; i < replicas.Length; i++)
                    {
                        if (_current[i] is { HasExited: true } exited)
                        {
                            if (_crashAt[i] is { } step && exited.Output.Contains(CrashAtStep.Marker(step), StringComparison.Ordinal))
                            {
                                crashes.Add(step);
                                plan.Remove(step);
                            }

                            exited.Dispose();
                            _current[i] = null;
                        }

                        if (_current[i] is null && _paused != i)
                        {
                            _crashAt[i] = plan.Count > 0 ? plan[0] : null;
                            _current[i] = LedgerProcess.Start(new Dictionary<string, string>(settings) { ["ReplicaId"] = replicas[i] }, _crashAt[i]);
                        }
                    }
                }

                await Task.Delay(100);
            }
        }
    }
}
