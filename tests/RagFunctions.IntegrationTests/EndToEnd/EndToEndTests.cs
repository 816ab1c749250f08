using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Deploy;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;
using RagFunctions.TestHost;
using Xunit.Abstractions;

using RagFunctions.Verify;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// The whole delivery path with real binaries on loopback: real app instances (in-process hosts with the real pusher)
/// → Pushgateway → ledger (SIGKILLed and restarted mid-run) → Prometheus evaluating the shipped rules → Alertmanager →
/// a webhook; then every dashboard query against that Prometheus. The full ledger invariant matrix lives in
/// <see cref="Ledger.LedgerUnderFaultsTests"/>; this re-checks conservation with the real app and reports the naive query's error.
/// </summary>
public sealed partial class EndToEndTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string Environment = "test";
    private const string BedrockModel = "amazon.nova-lite-v1:0";

    // Tiny, so the first priced query exceeds it and DailyBudgetExceeded fires.
    private const string DailyBudgetUsd = "0.000001";
    private const string RunbookBaseUrl = "https://runbooks.example.test/ragfunctions";
    private const int EphemeralInstances = 10;
    private const double LedgerHoldSeconds = 3;
    private const double LedgerStaleAfterSeconds = 5;

    // Panel queries that read metrics only a Kubernetes cluster has (see MetricSources.External). They run here (the
    // PromQL must parse) but cannot return data. A new panel reading such a metric fails the test until listed here.
    private static readonly HashSet<string> ExcludedPanels =
    [
        "rag-fleet/Replicas by deployment/A",
        "rag-fleet/KEDA desired replicas (HPA)/A",
        "rag-fleet/Scaler active/A",
        "rag-fleet/Queue depth (KEDA scaler metric)/A",
    ];

    private static readonly string[] SeedPanels = ["Total RAG Cost ($)", "Token Usage Rate (Tokens/sec)", "Request Latency (P95)"];

    [Fact]
    public async Task RealFleetSpendIsExactThroughLedgerCrashBudgetAlertReachesWebhookAndEveryPanelHasData()
    {
        // rag:spend_today_dollars restarts at 00:00 UTC; a run straddling midnight would compare two different days.
        var toMidnight = DateTime.UtcNow.Date.AddDays(1) - DateTime.UtcNow;
        if (toMidnight < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(toMidnight + TimeSpan.FromSeconds(1));
        }

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
            ["StorageConnectionString"] = azurite.ConnectionString,
            ["StateTable"] = "e2e" + Guid.NewGuid().ToString("N")[..8],
            ["ReplicaId"] = "e2e-ledger",
            ["FoldIntervalSeconds"] = "1",
            ["FirstSampleHoldSeconds"] = LedgerHoldSeconds.ToString(CultureInfo.InvariantCulture),
            ["StaleAfterSeconds"] = LedgerStaleAfterSeconds.ToString(CultureInfo.InvariantCulture),
            ["LeaseSeconds"] = "4",
            ["HttpTimeoutMilliseconds"] = "1000",
            ["TombstoneRetentionSeconds"] = "3600",
        };
        var ledger = LedgerProcess.Start(ledgerSettings, metricsPort: ledgerPort);
        var running = new List<AppInstance>();
        using var stopSteady = new CancellationTokenSource();
        try
        {
            var queueSettings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };
            var random = new Random(20250611);
            var truth = new SeriesTruth();
            var lifetimes = new List<(string Name, bool Bedrock, double Seconds, string Statuses)>();
            var workloadStart = Now();

            Dictionary<string, string?> Settings(string name, bool useBedrock)
            {
                var settings = new Dictionary<string, string?>
                {
                    ["AzureWebJobsStorage"] = azurite.ConnectionString,
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
                    truth.Add(final);
                    lifetimes.Add((instance.Name, useBedrock, Now() - startedAt, instance.Describe()));
                }
            }

            // One steady pod (Bedrock) lives through the run, so live per-pod panels have a fresh group when checked.
            var steady = await StartInstanceAsync($"e2e-steady-{random.Next():x8}", useBedrock: true, new Random(random.Next()));
            var steadyStartedAt = Now();
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
                    var startedAt = Now();
                    var deadline = DateTime.UtcNow + lifetime;
                    if (batch > 0)
                    {
                        await instance.RunBatchAsync(azurite.ConnectionString, queueSettings, batch);
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
            await Task.Delay(TimeSpan.FromSeconds(8));
            ledger.Kill();
            var killedAt = Now() - workloadStart;
            await Task.Delay(TimeSpan.FromSeconds(3));
            ledger.Dispose();
            ledger = LedgerProcess.Start(ledgerSettings, metricsPort: ledgerPort);
            output.WriteLine($"{watch.Elapsed}: ledger SIGKILLed at +{killedAt:F1} s, restarted at +{Now() - workloadStart:F1} s");
            await Task.WhenAll(runs);
            output.WriteLine($"{watch.Elapsed}: {EphemeralInstances} ephemeral instances ended");

            // 4. The budget alert reaches the webhook through Alertmanager.
            await Poll.UntilAsync(() => Task.FromResult(webhook.Alerts.Any(a => a.Labels.GetValueOrDefault("alertname") == "DailyBudgetExceeded")),
                TimeSpan.FromSeconds(45), "DailyBudgetExceeded delivered to the webhook by Alertmanager", () => alertmanager.Output);
            var alert = webhook.Alerts.First(a => a.Labels.GetValueOrDefault("alertname") == "DailyBudgetExceeded");
            Assert.Equal(AlertmanagerServer.Receiver, alert.Receiver);
            Assert.Equal("firing", alert.Status);
            Assert.Equal(Environment, alert.Labels["environment"]);
            Assert.Equal("critical", alert.Labels["severity"]);
            Assert.Equal($"{RunbookBaseUrl}/runbooks/daily-budget-exceeded.md", alert.Annotations["runbook_url"]);
            Assert.True(File.Exists(Path.Combine(Prerequisites.RepoRoot, "functions", "corpus", "runbooks", "daily-budget-exceeded.md")));
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("summary")));
            output.WriteLine($"{watch.Elapsed}: webhook got {alert.Labels["alertname"]} ({alert.Status}), runbook_url {alert.Annotations["runbook_url"]}; " +
                $"all alerts received: {string.Join(", ", webhook.Alerts.Select(a => a.Labels.GetValueOrDefault("alertname")).Distinct())}");

            // 5. Dashboards, while the steady pod is still live.
            await AssertEveryPanelHasDataAsync(prometheus);
            output.WriteLine($"{watch.Elapsed}: dashboard queries checked");

            await stopSteady.CancelAsync();
            await steadyLoop;
            await StopInstanceAsync(steady, useBedrock: true, steadyStartedAt);

            // Quiescence: every instance group folded and retired, the ledger's cost and token series equal the truth.
            var expected = truth.Totals
                .Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal) || t.Key.StartsWith("rag_token_usage_total{", StringComparison.Ordinal))
                .ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
            const string LedgerCostAndTokens = "{job=\"rag-ledger\",__name__=~\"rag_cost_dollars_total|rag_token_usage_total\"}";
            await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).Count == 0, TimeSpan.FromSeconds(30), "every instance group retired");
            await Poll.UntilAsync(async () => SeriesComparison.Mismatches(expected, await prometheus.QueryAsync(LedgerCostAndTokens)).Count == 0,
                TimeSpan.FromSeconds(20), "ledger cost and token series equal the truth in Prometheus", () => ledger.Output);
            var costTruth = expected.Where(t => t.Key.StartsWith("rag_cost_dollars_total{", StringComparison.Ordinal)).Sum(t => t.Value);
            await Poll.UntilAsync(async () => RelativeError(await SingleAsync(prometheus, $"rag:spend_today_dollars{{environment=\"{Environment}\"}}"), costTruth) <= 1e-9,
                TimeSpan.FromSeconds(10), "rag:spend_today_dollars equals the truth");
            await Task.Delay(TimeSpan.FromSeconds(2 * PrometheusServer.ScrapeIntervalSeconds));

            // 3. Conservation with the real app, the exact spend rule, and the increase() figures (reported, not asserted).
            Assert.Empty(SeriesComparison.Mismatches(expected, await prometheus.QueryAsync(LedgerCostAndTokens)));
            var ledgerTotal = await SingleAsync(prometheus, "sum(rag_cost_dollars_total{job=\"rag-ledger\"})");
            var spendToday = await SingleAsync(prometheus, $"rag:spend_today_dollars{{environment=\"{Environment}\"}}");
            var naive = await SingleAsync(prometheus, "sum(increase(rag_cost_dollars_total{job=\"rag-functions\"}[10m]))");
            var ledgerIncrease = await SingleAsync(prometheus, "sum(increase(rag_cost_dollars_total{job=\"rag-ledger\"}[10m]))");
            var tokensTruth = expected.Where(t => t.Key.StartsWith("rag_token_usage_total{", StringComparison.Ordinal)).Sum(t => t.Value);
            var ledgerTokens = await SingleAsync(prometheus, "sum(rag_token_usage_total{job=\"rag-ledger\"})");

            // The workload really exercised what the panels show: priced spend, throttling, no-context, both triggers.
            Assert.True(costTruth > 0, "no priced spend");
            Assert.True(Family(truth, "rag_llm_errors_total{", "error_type=\"throttling\"") > 0, "no throttling errors");
            Assert.True(Family(truth, "rag_no_context_total{") > 0, "no no-context query");
            Assert.True(Family(truth, "rag_requests_total{", "trigger=\"queue\"") > 0, "no queue-triggered query");
            Assert.True(lifetimes.Count(l => l.Seconds < PrometheusServer.ScrapeIntervalSeconds) >= 2, "fewer than two instances lived under one scrape interval");

            var figures = new Figures(
                Instances: lifetimes.Count,
                UnderOneScrape: lifetimes.Count(l => l.Seconds < PrometheusServer.ScrapeIntervalSeconds),
                LedgerKills: 1,
                TruthCostUsd: costTruth,
                LedgerTotalUsd: ledgerTotal,
                LedgerTotalRelError: RelativeError(ledgerTotal, costTruth),
                SpendTodayUsd: spendToday,
                SpendTodayRelError: RelativeError(spendToday, costTruth),
                TruthTokens: tokensTruth,
                LedgerTokens: ledgerTokens,
                NaiveIncreaseUsd: naive,
                NaiveIncreaseErrorPercent: 100 * (naive - costTruth) / costTruth,
                LedgerIncreaseUsd: ledgerIncrease,
                LedgerIncreaseErrorPercent: 100 * (ledgerIncrease - costTruth) / costTruth,
                DurationSeconds: watch.Elapsed.TotalSeconds);
            foreach (var life in lifetimes.OrderBy(l => l.Name, StringComparer.Ordinal))
            {
                output.WriteLine($"  {life.Name,-24} {(life.Bedrock ? "bedrock" : "extractive"),-10} {life.Seconds,6:F2} s  {life.Statuses}");
            }

            var report = figures.Markdown();
            output.WriteLine(report);
            var folder = Path.Combine(AppContext.BaseDirectory, "EndToEnd");
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "e2e-figures.md"), report);
            await File.WriteAllTextAsync(Path.Combine(folder, "e2e-figures.json"), JsonSerializer.Serialize(figures, new JsonSerializerOptions { WriteIndented = true }));
            output.WriteLine($"figures written to {folder}");

            Assert.InRange(figures.LedgerTotalRelError, 0, 1e-9);
            Assert.InRange(figures.SpendTodayRelError, 0, 1e-9);
            Assert.InRange(RelativeError(ledgerTokens, tokensTruth), 0, 1e-9);
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

    private async Task AssertEveryPanelHasDataAsync(PrometheusServer prometheus)
    {
        var panels = DashboardQueries.Load(Path.Combine(Prerequisites.RepoRoot, "dashboards"), Environment, rateInterval: "1m", range: "1h");
        var unknownSources = new List<string>();
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        var checks = new List<(string Name, string Expr)>();
        foreach (var panel in panels)
        {
            var name = $"{panel.DashboardUid}/{panel.PanelTitle}/{panel.RefId}";
            var metrics = MetricSources.MetricNames(panel.Expr);
            unknownSources.AddRange(metrics.Where(m => MetricSources.Local(m) is null && MetricSources.External(m) is null).Select(m => $"{name}: {m}"));
            var external = metrics.Where(m => MetricSources.External(m) is not null).ToList();
            if (external.Count > 0)
            {
                excluded.Add(name);
                output.WriteLine($"excluded {name}: {string.Join(", ", external.Select(m => $"{m} from {MetricSources.External(m)}"))}");
                Assert.Empty(await prometheus.QueryAsync(panel.Expr));
            }
            else
            {
                checks.Add((name, panel.Expr));
            }
        }

        Assert.Empty(unknownSources);
        Assert.Equal(ExcludedPanels.Order(StringComparer.Ordinal), excluded.Order(StringComparer.Ordinal));
        var seed = panels.Where(p => p.DashboardUid == "rag-api-metrics").Select(p => p.PanelTitle).ToList();
        Assert.Equal(SeedPanels.Order(StringComparer.Ordinal), seed.Order(StringComparer.Ordinal));

        // Alert annotations and the query variables (Grafana's label_values(selector, label) → the selector must carry the label).
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

        // Rules evaluate every second and rates need two samples: allow a few seconds for the last ones to appear.
        var empty = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var results = new Dictionary<string, int>(StringComparer.Ordinal);
        do
        {
            empty.Clear();
            foreach (var (name, expr) in checks)
            {
                var result = await prometheus.QueryAsync(expr);
                results[name] = result.Count;
                if (!result.Any(r => double.IsFinite(r.Value)))
                {
                    empty.Add($"{name}: {expr} → {(result.Count == 0 ? "no series" : "only NaN/Inf")}");
                }
            }

            if (empty.Count > 0)
            {
                await Task.Delay(1000);
            }
        }
        while (empty.Count > 0 && DateTime.UtcNow < deadline);

        Assert.True(empty.Count == 0, "panels without data:\n" + string.Join("\n", empty));
        output.WriteLine($"{checks.Count} queries with data (panels, annotations, variables); {excluded.Count} excluded; seed panels: {string.Join(", ", SeedPanels.Select(s => $"{s}={results[$"rag-api-metrics/{s}/A"]} series"))}");
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static double RelativeError(double actual, double expected) => Math.Abs(actual - expected) / Math.Abs(expected);

    private static double Family(SeriesTruth truth, string prefix, string? contains = null) =>
        truth.Totals.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal) && (contains is null || t.Key.Contains(contains, StringComparison.Ordinal))).Sum(t => t.Value);

    private static async Task<double> SingleAsync(PrometheusServer prometheus, string expr)
    {
        var result = await prometheus.QueryAsync(expr);
        return result.Count == 1 ? result[0].Value : throw new InvalidOperationException($"{expr} returned {result.Count} series");
    }

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>\w+)\)$")]
    private static partial Regex LabelValues();

    /// <summary>The measured figures, for the test log and the README table.</summary>
    private sealed record Figures(
        int Instances,
        int UnderOneScrape,
        int LedgerKills,
        double TruthCostUsd,
        double LedgerTotalUsd,
        double LedgerTotalRelError,
        double SpendTodayUsd,
        double SpendTodayRelError,
        double TruthTokens,
        double LedgerTokens,
        double NaiveIncreaseUsd,
        double NaiveIncreaseErrorPercent,
        double LedgerIncreaseUsd,
        double LedgerIncreaseErrorPercent,
        double DurationSeconds)
    {
        public string Markdown()
        {
            var c = CultureInfo.InvariantCulture;
            var text = new StringBuilder();
            text.AppendLine(c, $"End-to-end run: {Instances} real app instances ({UnderOneScrape} lived under one 1 s scrape interval), ledger SIGKILLed and restarted {LedgerKills}x, {DurationSeconds:F0} s.");
            text.AppendLine();
            text.AppendLine("| query | USD | error vs truth |");
            text.AppendLine("|---|---|---|");
            text.AppendLine(c, $"| truth: sum of every instance's final rag_cost_dollars_total | {TruthCostUsd:R} | |");
            text.AppendLine(c, $"| seed's naive `sum(increase(rag_cost_dollars_total{{job=\"rag-functions\"}}[10m]))` | {NaiveIncreaseUsd:R} | {NaiveIncreaseErrorPercent:+0.00;-0.00;0.00} % |");
            text.AppendLine(c, $"| `sum(increase(rag_cost_dollars_total{{job=\"rag-ledger\"}}[10m]))` (window-edge extrapolation) | {LedgerIncreaseUsd:R} | {LedgerIncreaseErrorPercent:+0.00;-0.00;0.00} % |");
            text.AppendLine(c, $"| ledger `sum(rag_cost_dollars_total{{job=\"rag-ledger\"}})` | {LedgerTotalUsd:R} | {LedgerTotalRelError:0.0E+0} (relative) |");
            text.AppendLine(c, $"| recording rule `rag:spend_today_dollars` | {SpendTodayUsd:R} | {SpendTodayRelError:0.0E+0} (relative) |");
            text.AppendLine();
            text.AppendLine(c, $"Tokens: truth {TruthTokens:R}, ledger {LedgerTokens:R}.");
            return text.ToString();
        }
    }
}
