using System.Diagnostics;
using System.Globalization;
using RagFunctions.CrashingLedger;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.Ledger;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// One run of the ledger under every fault, shared by the facts of <see cref="LedgerUnderFaultsTests"/>: real Azurite,
/// Pushgateway and Prometheus; 40 simulated pods (short-lived, SIGKILLed, replaying their final push); two ledger
/// replicas started at once (both scraped by Prometheus as job rag-ledger), each crashing at every step of a fold cycle
/// in turn; a Pushgateway restart; the lease holder SIGKILLed and kept down; retired groups pushed again. The run records what the facts assert on.
/// </summary>
public sealed class LedgerUnderFaultsRun : IAsyncLifetime, ISharedRun
{
    public const double HoldSeconds = 4;
    private const double StaleAfterSeconds = 6;
    // The ledger's own series and its budget gauges have no per-pod truth; rag_budget_rejections_total is folded like any counter.
    private const string LedgerSeries = "{job=\"rag-ledger\",__name__=~\"rag_.+\",__name__!~\"rag_ledger_.+|rag_budget_(spent|limit)_dollars\"}";

    private readonly AzuriteFixture _azurite = new();

    public static IReadOnlyList<LedgerCycleStep> CrashPlan { get; } = Enum.GetValues<LedgerCycleStep>();

    private readonly List<string> _log = [];

    public IReadOnlyList<string> Log => _log;

    /// <summary>What every pod's final push says, summed: the exact totals the ledger must hold.</summary>
    public IReadOnlyDictionary<string, double> TruthTotals => _truth.Totals;

    private readonly SeriesTruth _truth = new();

    public List<LedgerCycleStep> Crashes { get; } = [];

    /// <summary>The ledger's series in Prometheus at the end.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> Latest { get; private set; } = [];

    /// <summary>Every scraped sample of the ledger's series over the run.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(double Time, double Value)> Samples)> Raw { get; private set; } = [];

    /// <summary>Metric names whose <c>resets()</c> over the run is above 0, by Prometheus's own reading.</summary>
    public IReadOnlyList<string> NamesPrometheusSawReset { get; private set; } = [];

    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double PushTime)> GroupsLeft { get; private set; } = [];

    public double LedgerCostTotal { get; private set; }

    public double TestStart { get; private set; }

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        var watch = Stopwatch.StartNew();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        int[] ledgerPorts = [FreePort.Next(), FreePort.Next()];
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port, ledgerPorts);
        var settings = LedgerSettings.For(pushgateway, _azurite.ConnectionString, "ledger" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 1, staleAfter: StaleAfterSeconds, hold: HoldSeconds, lease: 4);

        await Poll.UntilAsync(async () => (await prometheus.QueryAsync("up{job=\"pushgateway\"} == 1")).Count == 1, TimeSpan.FromSeconds(20), "Prometheus scrapes the Pushgateway");
        TestStart = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        // Double start: replica a (crashing at every step in turn) and replica b, both from the first second.
        using var replicas = new Supervisor(settings, ["a", "b"], ledgerPorts, [.. CrashPlan], Crashes);
        replicas.Start();

        var random = new Random(20240611);
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
                lock (_truth)
                {
                    _truth.Add(final);
                }
            }));
        }

        await Task.Delay(TimeSpan.FromSeconds(16));
        await pushgateway.RestartAsync();
        _log.Add($"{watch.Elapsed}: Pushgateway restarted (persistence file kept)");

        await Task.Delay(TimeSpan.FromSeconds(10));
        var holder = replicas.Pause();
        _log.Add($"{watch.Elapsed}: lease holder {holder} SIGKILLed and kept down; crashes so far: {string.Join(", ", Crashes)}");
        await Task.Delay(TimeSpan.FromSeconds(6));
        replicas.Resume();
        await Task.WhenAll(runs);
        _log.Add($"{watch.Elapsed}: all {instances} instances ended");

        // A late re-push of instances already retired must be dropped, not counted again.
        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 0, TimeSpan.FromSeconds(30), "stale groups retired");
        foreach (var instance in retiredReplays)
        {
            await instance.PushUntilAcceptedAsync();
        }

        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 0, TimeSpan.FromSeconds(15), "re-pushed retired groups deleted again");
        await Poll.UntilAsync(async () => SeriesComparison.Mismatches(TruthTotals, await prometheus.QueryAsync(LedgerSeries)).Count == 0, TimeSpan.FromSeconds(20), "ledger series equal the truth in Prometheus");
        await prometheus.UntilScrapedAsync("rag-ledger");

        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var window = $"{(int)Math.Ceiling(end - TestStart) + 5}s";

        // The replicas keep running while Prometheus is queried: their series go stale in Prometheus once they stop.
        Latest = await prometheus.QueryAsync(LedgerSeries);
        Raw = await prometheus.RawSamplesAsync($"{LedgerSeries}[{window}]");
        GroupsLeft = await pushgateway.GroupsAsync();

        // resets() drops __name__, so it runs per metric name (a histogram's label sets only differ by name).
        var reset = new List<string>();
        foreach (var name in Raw.Select(r => r.Labels["__name__"]).Distinct())
        {
            if ((await prometheus.QueryAsync($"resets({{job=\"rag-ledger\",__name__=\"{name}\"}}[{window}]) > 0")).Count > 0)
            {
                reset.Add(name);
            }
        }

        NamesPrometheusSawReset = reset;
        LedgerCostTotal = (await prometheus.QueryAsync("sum(rag_cost_dollars_total{job=\"rag-ledger\"})")).Single().Value;

        // The naive increase() over the pods' own cost series cannot be reported any more: the Pushgateway scrape keeps
        // only push times, requests and push failures per pod (README, "Per-pod series kept").
        var costTruth = TruthCost;
        var ledgerIncrease = (await prometheus.QueryAsync($"sum(increase(rag_cost_dollars_total{{job=\"rag-ledger\"}}[{window}]))")).Single().Value;
        _log.Add($"instances: {instances} (0.3-0.9 s: {(instances + 2) / 3}, SIGKILLed: {instances / 4}); crashes: {string.Join(", ", Crashes)}; window {window}");
        _log.Add($"truth cost:                                   {costTruth.ToString("R", CultureInfo.InvariantCulture)}");
        _log.Add($"ledger sum(rag_cost_dollars_total{{job=rag-ledger}}): {LedgerCostTotal.ToString("R", CultureInfo.InvariantCulture)}  rel error {Math.Abs(LedgerCostTotal - costTruth) / costTruth:E2}");
        _log.Add($"ledger sum(increase(...{{job=rag-ledger}})):    {ledgerIncrease.ToString("R", CultureInfo.InvariantCulture)}  error {Percent(ledgerIncrease, costTruth)} (window-edge extrapolation)");
        _log.Add($"ledger series: {Latest.Count}, groups left: {GroupsLeft.Count}, duration {watch.Elapsed}");
        replicas.Dispose();
    }

    public double TruthCost => TruthTotals.Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal)).Sum(t => t.Value);

    public Task DisposeAsync() => _azurite.DisposeAsync();

    private static string Percent(double value, double truth) => ((value - truth) / truth).ToString("P2", CultureInfo.InvariantCulture);

    /// <summary>
    /// Keeps the ledger replicas running, both started at once: after each injected crash the replica restarts with the
    /// next step of the crash plan, so whichever replica holds the lease crashes at every step in turn.
    /// </summary>
    /// <param name="ports">Each replica's /metrics port, kept across its restarts (Prometheus scrapes both).</param>
    private sealed class Supervisor(Dictionary<string, string> settings, string[] replicas, int[] ports, List<LedgerCycleStep> plan, List<LedgerCycleStep> crashes) : IDisposable
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
                            _current[i] = LedgerProcess.Start(new Dictionary<string, string>(settings) { ["ReplicaId"] = replicas[i] }, _crashAt[i], ports[i]);
                        }
                    }
                }

                await Task.Delay(100);
            }
        }
    }
}
