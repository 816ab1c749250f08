using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;
using RagFunctions.TestHost;
using RagFunctions.Verify;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// One run of the whole delivery path with real binaries on loopback, shared by the facts of <see cref="EndToEndTests"/>:
/// real app instances (in-process hosts with the real pusher) → Pushgateway → ledger (SIGKILLed and restarted mid-run) →
/// Prometheus evaluating the shipped rules → Alertmanager → a webhook; then every dashboard query against that
/// Prometheus. The run records what it saw; each fact asserts one invariant of it, so an early failure hides no other.
/// </summary>
public sealed partial class EndToEndRun : IAsyncLifetime, ISharedRun
{
    public const string Environment = "test";
    public const string RunbookBaseUrl = "https://runbooks.example.test/ragfunctions";
    private const string BedrockModel = "amazon.nova-lite-v1:0";
    private const string LedgerCostAndTokens = "{job=\"rag-ledger\",__name__=~\"rag_cost_dollars_total|rag_token_usage_total\"}";

    // Tiny, so the first priced query exceeds it and DailyBudgetExceeded fires.
    private const string DailyBudgetUsd = "0.000001";
    private const int EphemeralInstances = 10;

    // The ledger's global hard limits (Rag:Budgets), far above the run's spend: the remaining-budget panel has data.
    // What the ledger shares with the app: its budget gauges carry the app's environment, which the dashboards filter on.
    private static readonly Dictionary<string, string> BudgetSettings = new()
    {
        ["Environment"] = Environment,
        ["Budgets__Daily__Hard"] = "1000",
        ["Budgets__Monthly__Hard"] = "10000",
    };
    private const double LedgerHoldSeconds = 3;
    private const double LedgerStaleAfterSeconds = 5;

    private readonly AzuriteFixture _azurite = new();
    private readonly SeriesTruth _truth = new();

    private readonly List<string> _log = [];

    public IReadOnlyList<string> Log => _log;

    /// <summary>Every alert Alertmanager posted to the webhook, once DailyBudgetExceeded arrived (or the wait ended).</summary>
    public IReadOnlyList<ReceivedAlert> Alerts { get; private set; } = [];

    public PanelReport Panels { get; private set; } = PanelReport.Empty;

    /// <summary>The exact totals: each instance's final pushed cost and token series, summed.</summary>
    public IReadOnlyDictionary<string, double> ExpectedCostAndTokens { get; private set; } = new Dictionary<string, double>();

    /// <summary>The ledger's cost and token series in Prometheus at the end.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> LedgerCostAndTokenSeries { get; private set; } = [];

    public bool EveryGroupRetired { get; private set; }

    public IReadOnlyList<(string Name, bool Bedrock, double Seconds, string Statuses)> Lifetimes { get; private set; } = [];

    public IReadOnlyDictionary<string, double> TruthTotals => _truth.Totals;

    public double TruthCost { get; private set; }

    public double TruthTokens { get; private set; }

    public double LedgerTotal { get; private set; }

    public double SpendToday { get; private set; }

    public double LedgerTokens { get; private set; }

    public async Task InitializeAsync()
    {
        // rag:spend_today_dollars restarts at 00:00 UTC; a run straddling midnight would compare two different days.
        var toMidnight = DateTime.UtcNow.Date.AddDays(1) - DateTime.UtcNow;
        if (toMidnight < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(toMidnight + TimeSpan.FromSeconds(1));
        }

        await _azurite.InitializeAsync();
        var watch = Stopwatch.StartNew();
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var alertmanager = await AlertmanagerServer.StartAsync(webhook.Url);
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var rules = RulesTemplate.Render(Path.Combine(Prerequisites.RepoRoot, RulesTemplate.RelativePath), new Dictionary<string, string>
        {
            ["environment"] = Environment,
            ["daily_budget_usd"] = DailyBudgetUsd,
            ["monthly_budget_usd"] = "1000",
            ["burn_rate_hours"] = "6",
            ["runbook_base_url"] = RunbookBaseUrl,
        });
        var ledgerPort = FreePort.Next();
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port, [ledgerPort], rules, alertmanager.Port);
        await Poll.UntilAsync(async () => (await prometheus.QueryAsync("up{job=\"pushgateway\"} == 1")).Count == 1, TimeSpan.FromSeconds(20), "Prometheus scrapes the Pushgateway");

        // Priced answers, with bursts of 429 ThrottlingException so rag_llm_errors_total and the throttled outcome get data.
        await using var bedrock = await BedrockStandIn.StartAsync(attempt => attempt % 11 is 5 or 6 or 7
            ? new CannedResponse(429, """{"message":"Too many requests, please wait before trying again."}""",
                new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/" })
            : new CannedResponse(200, BedrockStandIn.ConverseJson()));

        var ledgerSettings = new Dictionary<string, string>
        {
            ["PushgatewayUrl"] = pushgateway.Url.ToString(),
            ["StorageConnectionString"] = _azurite.ConnectionString,
            ["StateTable"] = "e2e" + Guid.NewGuid().ToString("N")[..8],
            ["ReplicaId"] = "e2e-ledger",
            ["FoldIntervalSeconds"] = "1",
            ["FirstSampleHoldSeconds"] = LedgerHoldSeconds.ToString(CultureInfo.InvariantCulture),
            ["StaleAfterSeconds"] = LedgerStaleAfterSeconds.ToString(CultureInfo.InvariantCulture),
            ["LeaseSeconds"] = "4",
            ["HttpTimeoutMilliseconds"] = "1000",
            ["TombstoneRetentionSeconds"] = "3600",
        };
        var ledger = LedgerProcess.Start(ledgerSettings, metricsPort: ledgerPort, ragSettings: BudgetSettings);
        var running = new List<AppInstance>();
        using var stopSteady = new CancellationTokenSource();
        try
        {
            var queueSettings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };
            var random = new Random(20250611);
            var lifetimes = new List<(string Name, bool Bedrock, double Seconds, string Statuses)>();
            var workloadStart = UnixTime.Now();

            Dictionary<string, string?> Settings(string name, bool useBedrock)
            {
                var settings = new Dictionary<string, string?>
                {
                    ["AzureWebJobsStorage"] = _azurite.ConnectionString,
                    ["Rag:Environment"] = Environment,
                    ["Rag:CorpusPath"] = Path.Combine(Prerequisites.RepoRoot, "functions", "corpus"),
                    ["Rag:Push:Enabled"] = "true",
                    ["Rag:Push:Url"] = pushgateway.Url.ToString(),
                    ["Rag:Push:Instance"] = name,
                    ["Rag:Push:IntervalSeconds"] = "1",
                    ["Rag:Push:TimeoutMilliseconds"] = "1000",
                };
                if (useBedrock)
                {
                    bedrock.Configure(settings, BedrockModel, maxRetries: 1, retryBaseDelayMilliseconds: 20);
                }

                return settings;
            }

            async Task<AppInstance> StartInstanceAsync(string name, bool useBedrock, Random instanceRandom)
            {
                var instance = await AppInstance.StartAsync(name, Settings(name, useBedrock), instanceRandom);
                lock (running)
                {
                    running.Add(instance);
                }

                return instance;
            }

            async Task StopInstanceAsync(AppInstance instance, bool useBedrock, double startedAt)
            {
                var final = await instance.StopAsync();
                lock (running)
                {
                    running.Remove(instance);
                    _truth.Add(final);
                    lifetimes.Add((instance.Name, useBedrock, UnixTime.Now() - startedAt, instance.Describe()));
                }
            }

            // One steady pod (Bedrock) lives through the run, so live per-pod panels have a fresh group when checked.
            var steady = await StartInstanceAsync($"e2e-steady-{random.Next():x8}", useBedrock: true, new Random(random.Next()));
            var steadyStartedAt = UnixTime.Now();
            var steadyLoop = Task.Run(async () =>
            {
                while (!stopSteady.IsCancellationRequested)
                {
                    await steady.QueryAsync();
                    await Task.Delay(250, CancellationToken.None);
                }
            });

            // Ephemeral pods: every third lives 0.3-0.9 s (under one scrape interval), the rest 1.5-8 s; even ones on
            // Bedrock, odd ones extractive (priced at 0); two of them submit a batch and drain it through the queue.
            var runs = new List<Task>();
            for (var i = 0; i < EphemeralInstances; i++)
            {
                var index = i;
                var startIn = TimeSpan.FromSeconds(random.NextDouble() * 16);
                var lifetime = TimeSpan.FromSeconds(index % 3 == 0 ? 0.3 + (random.NextDouble() * 0.6) : 1.5 + (random.NextDouble() * 6.5));
                var useBedrock = index % 2 == 0;
                var batch = index is 2 or 7 ? 4 + random.Next(5) : 0;
                var instanceRandom = new Random(random.Next());
                var name = $"e2e-{index}-{instanceRandom.Next():x8}";
                runs.Add(Task.Run(async () =>
                {
                    await Task.Delay(startIn);
                    var instance = await StartInstanceAsync(name, useBedrock, instanceRandom);
                    var startedAt = UnixTime.Now();
                    var deadline = DateTime.UtcNow + lifetime;
                    if (batch > 0)
                    {
                        await instance.RunBatchAsync(_azurite.ConnectionString, queueSettings, batch);
                    }

                    do
                    {
                        await instance.QueryAsync();
                        await Task.Delay(instanceRandom.Next(40, 250));
                    }
                    while (DateTime.UtcNow < deadline);
                    await StopInstanceAsync(instance, useBedrock, startedAt);
                }));
            }

            // The ledger dies mid-run (SIGKILL, as a node failure) and a new process takes over from its table state.
            // These waits schedule the fault within the workload; no assertion follows them.
            await Task.Delay(TimeSpan.FromSeconds(8));
            ledger.Kill();
            var killedAt = UnixTime.Now() - workloadStart;
            await Task.Delay(TimeSpan.FromSeconds(3));
            ledger.Dispose();
            ledger = LedgerProcess.Start(ledgerSettings, metricsPort: ledgerPort, ragSettings: BudgetSettings);
            _log.Add($"{watch.Elapsed}: ledger SIGKILLed at +{killedAt:F1} s, restarted at +{UnixTime.Now() - workloadStart:F1} s");
            await Task.WhenAll(runs);
            _log.Add($"{watch.Elapsed}: {EphemeralInstances} ephemeral instances ended");

            // The budget alert reaches the webhook through Alertmanager.
            var delivered = await Poll.TryUntilAsync(() => Task.FromResult(webhook.Alerts.Any(a => a.Labels.GetValueOrDefault("alertname") == "DailyBudgetExceeded")),
                TimeSpan.FromSeconds(45));
            Alerts = webhook.Alerts;
            _log.Add($"{watch.Elapsed}: alerts received: {string.Join(", ", Alerts.Select(a => a.Labels.GetValueOrDefault("alertname")).Distinct())}" +
                (delivered ? string.Empty : $"; no DailyBudgetExceeded after 45 s. Alertmanager:\n{alertmanager.Output}"));

            // Dashboards, while the steady pod is still live.
            Panels = await PanelReport.CollectAsync(prometheus);
            _log.Add($"{watch.Elapsed}: {Panels.WithData.Count} dashboard queries with data, {Panels.Excluded.Count} excluded, {Panels.WithoutData.Count} without data");

            await stopSteady.CancelAsync();
            await steadyLoop;
            await StopInstanceAsync(steady, useBedrock: true, steadyStartedAt);
            Lifetimes = lifetimes;

            // Quiescence: every instance group folded and retired, the ledger's cost and token series equal the truth.
            ExpectedCostAndTokens = _truth.Totals
                .Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal) || t.Key.StartsWith("rag_token_usage_total{", StringComparison.Ordinal))
                .ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            TruthCost = ExpectedCostAndTokens.Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal)).Sum(t => t.Value);
            TruthTokens = ExpectedCostAndTokens.Where(t => t.Key.StartsWith("rag_token_usage_total{", StringComparison.Ordinal)).Sum(t => t.Value);
            EveryGroupRetired = await Poll.TryUntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 0, TimeSpan.FromSeconds(30));
            var converged = await Poll.TryUntilAsync(async () => SeriesComparison.Mismatches(ExpectedCostAndTokens, await prometheus.QueryAsync(LedgerCostAndTokens)).Count == 0,
                TimeSpan.FromSeconds(20))
                && await Poll.TryUntilAsync(async () => RelativeError(await SingleAsync(prometheus, SpendTodayQuery), TruthCost) <= 1e-9, TimeSpan.FromSeconds(10));
            if (!converged)
            {
                _log.Add($"ledger did not converge on the truth within 30 s. Ledger:\n{ledger.Output}");
            }

            // Two more scrapes of the ledger, so the final reading is the settled one and not a first sample.
            await prometheus.UntilScrapedAsync("rag-ledger");
            LedgerCostAndTokenSeries = await prometheus.QueryAsync(LedgerCostAndTokens);
            LedgerTotal = await SingleAsync(prometheus, "sum(rag_cost_dollars_total{job=\"rag-ledger\"})");
            SpendToday = await SingleAsync(prometheus, SpendTodayQuery);
            LedgerTokens = await SingleAsync(prometheus, "sum(rag_token_usage_total{job=\"rag-ledger\"})");

            // Reported for the README, not asserted. The per-pod cost series are no longer stored (the Pushgateway scrape
            // keeps only push times, requests and push failures per pod), so the naive per-pod increase() has no data;
            // the per-pod series count says what the pods cost the TSDB instead.
            var ledgerIncrease = await SingleAsync(prometheus, "sum(increase(rag_cost_dollars_total{job=\"rag-ledger\"}[10m]))");
            var podSeries = await SingleAsync(prometheus, "count(last_over_time({job=\"rag-functions\"}[1h]))");
            await WriteFiguresAsync(podSeries, ledgerIncrease, watch.Elapsed);
        }
        finally
        {
            await stopSteady.CancelAsync();
            ledger.Dispose();
            foreach (var instance in running.ToList())
            {
                await instance.AbandonAsync();
            }
        }
    }

    public Task DisposeAsync() => _azurite.DisposeAsync();

    public static double RelativeError(double actual, double expected) => Math.Abs(actual - expected) / Math.Abs(expected);

    private static string SpendTodayQuery => $"rag:spend_today_dollars{{environment=\"{Environment}\"}}";

    private static async Task<double> SingleAsync(PrometheusServer prometheus, string expr)
    {
        var result = await prometheus.QueryAsync(expr);
        return result.Count == 1 ? result[0].Value : throw new InvalidOperationException($"{expr} returned {result.Count} series");
    }

    private async Task WriteFiguresAsync(double podSeries, double ledgerIncrease, TimeSpan duration)
    {
        var figures = new EndToEndFigures(
            Instances: Lifetimes.Count,
            UnderOneScrape: Lifetimes.Count(l => l.Seconds < PrometheusServer.ScrapeIntervalSeconds),
            LedgerKills: 1,
            TruthCostUsd: TruthCost,
            LedgerTotalUsd: LedgerTotal,
            LedgerTotalRelError: RelativeError(LedgerTotal, TruthCost),
            SpendTodayUsd: SpendToday,
            SpendTodayRelError: RelativeError(SpendToday, TruthCost),
            TruthTokens: TruthTokens,
            LedgerTokens: LedgerTokens,
            PerPodSeriesStored: (int)podSeries,
            LedgerIncreaseUsd: ledgerIncrease,
            LedgerIncreaseErrorPercent: 100 * (ledgerIncrease - TruthCost) / TruthCost,
            DurationSeconds: duration.TotalSeconds);
        foreach (var life in Lifetimes.OrderBy(l => l.Name, StringComparer.Ordinal))
        {
            _log.Add($"  {life.Name,-24} {(life.Bedrock ? "bedrock" : "extractive"),-10} {life.Seconds,6:F2} s  {life.Statuses}");
        }

        var report = figures.Markdown();
        _log.Add(report);
        var folder = Path.Combine(AppContext.BaseDirectory, "EndToEnd");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "e2e-figures.md"), report);
        await File.WriteAllTextAsync(Path.Combine(folder, "e2e-figures.json"), JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }));
        _log.Add($"figures written to {folder}");
    }

    /// <summary>
    /// What every dashboard query (panels, annotations, Grafana variables) returned against the run's Prometheus. Panels
    /// that read metrics only a cluster has (see <see cref="MetricSources.External"/>) run too (the PromQL must parse)
    /// but are excluded from the data check.
    /// </summary>
    public sealed record PanelReport(
        IReadOnlyList<string> UnknownSources,
        IReadOnlyList<string> Excluded,
        IReadOnlyList<string> ExcludedWithData,
        IReadOnlyList<string> SeedPanelTitles,
        IReadOnlyList<string> WithData,
        IReadOnlyList<string> WithoutData)
    {
        public static PanelReport Empty { get; } = new([], [], [], [], [], []);

        public static async Task<PanelReport> CollectAsync(PrometheusServer prometheus)
        {
            var panels = DashboardQueries.Load(Path.Combine(Prerequisites.RepoRoot, "dashboards"), Environment, rateInterval: "1m", range: "1h");
            var unknownSources = new List<string>();
            var excluded = new List<string>();
            var excludedWithData = new List<string>();
            var checks = new List<(string Name, string Expr)>();
            foreach (var panel in panels)
            {
                var name = $"{panel.DashboardUid}/{panel.PanelTitle}/{panel.RefId}";
                var metrics = MetricSources.MetricNames(panel.Expr);
                unknownSources.AddRange(metrics.Where(m => MetricSources.Local(m) is null && MetricSources.External(m) is null).Select(m => $"{name}: {m}"));
                if (metrics.Any(m => MetricSources.External(m) is not null))
                {
                    excluded.Add(name);
                    if ((await prometheus.QueryAsync(panel.Expr)).Count > 0)
                    {
                        excludedWithData.Add(name);
                    }
                }
                else
                {
                    checks.Add((name, panel.Expr));
                }
            }

            var seed = panels.Where(p => p.DashboardUid == "rag-api-metrics").Select(p => p.PanelTitle).ToList();
            checks.AddRange(await AnnotationAndVariableQueriesAsync());

            // Rules evaluate every second and rates need two samples: allow a few seconds for the last ones to appear.
            var withoutData = new List<string>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            do
            {
                withoutData.Clear();
                foreach (var (name, expr) in checks)
                {
                    var result = await prometheus.QueryAsync(expr);
                    if (!result.Any(r => double.IsFinite(r.Value)))
                    {
                        withoutData.Add($"{name}: {expr} → {(result.Count == 0 ? "no series" : "only NaN/Inf")}");
                    }
                }

                if (withoutData.Count > 0)
                {
                    await Task.Delay(1000);
                }
            }
            while (withoutData.Count > 0 && DateTime.UtcNow < deadline);

            var withData = checks.Select(c => c.Name).Where(n => !withoutData.Any(w => w.StartsWith(n + ":", StringComparison.Ordinal))).ToList();
            return new PanelReport(unknownSources, excluded, excludedWithData, seed, withData, withoutData);
        }

        /// <summary>Alert annotations and the query variables (Grafana's label_values(selector, label) → the selector must carry the label).</summary>
        private static async Task<List<(string Name, string Expr)>> AnnotationAndVariableQueriesAsync()
        {
            var checks = new List<(string Name, string Expr)>();
            foreach (var file in Directory.GetFiles(Path.Combine(Prerequisites.RepoRoot, "dashboards"), "*.json").Order(StringComparer.Ordinal))
            {
                var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();
                var uid = dashboard["uid"]!.GetValue<string>();
                var values = new Dictionary<string, string> { ["environment"] = Environment };
                foreach (var annotation in dashboard["annotations"]?["list"]?.AsArray().OfType<JsonObject>() ?? [])
                {
                    if (annotation["expr"]?.GetValue<string>() is { Length: > 0 } expr)
                    {
                        checks.Add(($"{uid}/annotation {annotation["name"]}", DashboardQueries.Substitute(expr, values)));
                    }
                }

                foreach (var variable in dashboard["templating"]?["list"]?.AsArray().OfType<JsonObject>() ?? [])
                {
                    if (variable["type"]?.GetValue<string>() == "query"
                        && LabelValues().Match(variable["query"]?["query"]?.GetValue<string>() ?? string.Empty) is { Success: true } m)
                    {
                        checks.Add(($"{uid}/variable {variable["name"]}", $"count by ({m.Groups["label"].Value}) ({DashboardQueries.Substitute(m.Groups["selector"].Value, values)})"));
                    }
                }
            }

            return checks;
        }
    }

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>\w+)\)$")]
    private static partial Regex LabelValues();
}
