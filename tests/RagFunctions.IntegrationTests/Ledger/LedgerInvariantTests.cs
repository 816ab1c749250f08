using System.Diagnostics;
using System.Globalization;
using System.Text;
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

    private static readonly CrashStep[] CrashPlan =
        [CrashStep.AfterFold, CrashStep.AfterChunks, CrashStep.AfterCommit, CrashStep.AfterPush, CrashStep.AfterFirstRetire];

    [Fact]
    public async Task LedgerTotalsAreExactMonotonicAndStartAtZeroThroughCrashesRestartsAndDoubleStarts()
    {
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port);
        var settings = Settings(pushgateway, "ledger" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 1, staleAfter: StaleAfterSeconds, hold: HoldSeconds, lease: 4);
        var testStart = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        // Double start: replica a (crashing at every step in turn) and replica b, both from the first second.
        var crashes = new List<string>();
        var replicaA = new Supervisor(settings, "a", CrashPlan.Select(s => s.ToString()).ToList(), crashes);
        using var replicaB = LedgerProcess.Start(With(settings, "ReplicaId", "b"));
        replicaA.Start();

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
        replicaA.Pause();
        output.WriteLine($"{watch.Elapsed}: replica a SIGKILLed and kept down; crashes so far: {string.Join(", ", crashes)}");
        await Task.Delay(TimeSpan.FromSeconds(6));
        replicaA.Resume();
        await Task.WhenAll(runs);
        output.WriteLine($"{watch.Elapsed}: all {instances} instances ended");

        // A late re-push of instances already retired must be dropped, not counted again.
        await WaitUntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 1, TimeSpan.FromSeconds(30), "stale groups retired");
        foreach (var instance in retiredReplays)
        {
            await instance.PushUntilAcceptedAsync();
        }

        await WaitUntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 1, TimeSpan.FromSeconds(15), "re-pushed retired groups deleted again");
        await WaitUntilAsync(async () => Mismatches(truth, await prometheus.QueryAsync(LedgerSeries)).Count == 0, TimeSpan.FromSeconds(20), "ledger series equal the truth in Prometheus");
        await Task.Delay(TimeSpan.FromSeconds(2 * PrometheusServer.ScrapeIntervalSeconds));

        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var window = $"{(int)Math.Ceiling(end - testStart) + 5}s";
        replicaA.Dispose();

        // 1 Conservation.
        var latest = await prometheus.QueryAsync(LedgerSeries);
        Assert.Empty(Mismatches(truth, latest));
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
                Assert.True(held >= 2 * PrometheusServer.ScrapeIntervalSeconds, $"{Name(labels)} left 0 after {held} s");
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
        Assert.Equal(CrashPlan.Select(s => s.ToString()), crashes);

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

    private static List<string> Mismatches(SeriesTruth truth, IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> ledger)
    {
        var seen = ledger.ToDictionary(s => SeriesTruth.Key(s.Labels["__name__"], s.Labels), s => s.Value);
        var mismatches = new List<string>();
        foreach (var (key, expected) in truth.Totals)
        {
            if (!seen.TryGetValue(key, out var actual))
            {
                mismatches.Add($"{key} missing");
            }
            else if (Math.Abs(actual - expected) > 1e-9 * Math.Max(Math.Abs(expected), 1e-300))
            {
                mismatches.Add($"{key} {actual} != {expected}");
            }
        }

        mismatches.AddRange(seen.Keys.Where(k => !truth.Totals.ContainsKey(k)).Select(k => $"{k} not in truth"));
        return mismatches;
    }

    private static string Name(IReadOnlyDictionary<string, string> labels) => SeriesTruth.Key(labels["__name__"], labels);

    private static string Percent(double value, double truth) => ((value - truth) / truth).ToString("P2", CultureInfo.InvariantCulture);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not reached in {timeout}: {what}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Keeps replica a running: restarts it after each injected crash with the next step of the plan, then without.</summary>
    private sealed class Supervisor(Dictionary<string, string> settings, string replica, List<string> plan, List<string> crashes) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly StringBuilder _log = new();
        private LedgerProcess? _current;
        private string? _crashAt;
        private bool _paused;
        private Task? _loop;

        public void Start() => _loop = Task.Run(LoopAsync);

        /// <summary>SIGKILL now and keep it down until <see cref="Resume"/>.</summary>
        public void Pause()
        {
            lock (_log)
            {
                _paused = true;
                _current?.Kill();
            }
        }

        public void Resume()
        {
            lock (_log)
            {
                _paused = false;
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _loop?.Wait(TimeSpan.FromSeconds(5));
            _current?.Dispose();
            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                lock (_log)
                {
                    if (_current is { HasExited: true } exited)
                    {
                        if (_crashAt is not null && exited.Output.Contains("Crash injected at " + _crashAt, StringComparison.Ordinal))
                        {
                            crashes.Add(_crashAt);
                            plan.RemoveAt(0);
                        }

                        exited.Dispose();
                        _current = null;
                    }

                    if (_current is null && !_paused)
                    {
                        _crashAt = plan.Count > 0 ? plan[0] : null;
                        var run = new Dictionary<string, string>(settings) { ["ReplicaId"] = replica, ["CrashAt"] = _crashAt ?? "None" };
                        _current = LedgerProcess.Start(run);
                    }
                }

                await Task.Delay(100);
            }
        }
    }
}
