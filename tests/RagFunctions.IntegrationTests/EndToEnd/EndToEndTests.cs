using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// The whole delivery path, one invariant per fact, over one shared run (<see cref="EndToEndRun"/>): real app instances →
/// Pushgateway → ledger (SIGKILLed and restarted mid-run) → Prometheus with the shipped rules → Alertmanager → a webhook,
/// and every dashboard query. The full ledger invariant matrix lives in <see cref="LedgerUnderFaultsTests"/>; this
/// re-checks conservation with the real app and reports the naive query's error.
/// </summary>
public sealed class EndToEndTests : IClassFixture<EndToEndRun>
{
    // Panel queries that read metrics only a Kubernetes cluster has (see MetricSources.External). They run here (the
    // PromQL must parse) but cannot return data. A new panel reading such a metric fails the test until listed here.
    private static readonly string[] ClusterOnlyPanels =
    [
        "rag-fleet/Replicas by deployment/A",
        "rag-fleet/KEDA desired replicas (HPA)/A",
        "rag-fleet/Scaler active/A",
        "rag-fleet/Queue depth (KEDA scaler metric)/A",
    ];

    private static readonly string[] SeedPanels = ["Total RAG Cost ($)", "Token Usage Rate (Tokens/sec)", "Request Latency (P95)"];

    private readonly EndToEndRun _run;

    public EndToEndTests(EndToEndRun run, ITestOutputHelper output)
    {
        _run = run;
        foreach (var line in run.Log)
        {
            output.WriteLine(line);
        }
    }

    private ReceivedAlert BudgetAlert =>
        _run.Alerts.FirstOrDefault(a => a.Labels.GetValueOrDefault("alertname") == "DailyBudgetExceeded")
        ?? throw new Xunit.Sdk.XunitException("DailyBudgetExceeded never reached the webhook (see the run log above)");

    [Fact]
    public void DailyBudgetAlertReachesTheWebhookFiringThroughAlertmanager()
    {
        Assert.Equal(AlertmanagerServer.Receiver, BudgetAlert.Receiver);
        Assert.Equal("firing", BudgetAlert.Status);
    }

    [Fact]
    public void DailyBudgetAlertCarriesTheEnvironmentAndCriticalSeverity()
    {
        Assert.Equal(EndToEndRun.Environment, BudgetAlert.Labels["environment"]);
        Assert.Equal("critical", BudgetAlert.Labels["severity"]);
    }

    [Fact]
    public void DailyBudgetAlertLinksARunbookThatExistsInTheCorpus()
    {
        Assert.Equal($"{EndToEndRun.RunbookBaseUrl}/runbooks/daily-budget-exceeded.md", BudgetAlert.Annotations["runbook_url"]);
        Assert.True(File.Exists(Path.Combine(Prerequisites.RepoRoot, "functions", "corpus", "runbooks", "daily-budget-exceeded.md")));
    }

    [Fact]
    public void DailyBudgetAlertHasASummary() =>
        Assert.False(string.IsNullOrWhiteSpace(BudgetAlert.Annotations.GetValueOrDefault("summary")));

    [Fact]
    public void EveryDashboardQueryReadsAMetricWhoseSourceIsKnown() =>
        Assert.Empty(_run.Panels.UnknownSources);

    [Fact]
    public void OnlyTheListedClusterOnlyPanelsAreExcludedFromTheDataCheck() =>
        Assert.Equal(ClusterOnlyPanels.Order(StringComparer.Ordinal), _run.Panels.Excluded.Order(StringComparer.Ordinal));

    [Fact]
    public void ClusterOnlyPanelsReturnNothingOutsideACluster() =>
        Assert.Empty(_run.Panels.ExcludedWithData);

    [Fact]
    public void TheSeedsThreePanelsAreOnTheSeedDashboard() =>
        Assert.Equal(SeedPanels.Order(StringComparer.Ordinal), _run.Panels.SeedPanelTitles.Order(StringComparer.Ordinal));

    [Fact]
    public void EveryPanelAnnotationAndVariableQueryHasData()
    {
        Assert.True(_run.Panels.WithoutData.Count == 0, "queries without data:\n" + string.Join("\n", _run.Panels.WithoutData));
        Assert.Superset(SeedPanels.Select(s => $"rag-api-metrics/{s}/A").ToHashSet(), _run.Panels.WithData.ToHashSet());
    }

    [Fact]
    public void EveryPodGroupIsRetiredFromThePushgateway() =>
        Assert.True(_run.EveryGroupRetired, "groups were still on the Pushgateway 30 s after the last pod stopped");

    [Fact]
    public void LedgerCostAndTokenSeriesEqualTheTruthSeriesBySeries()
    {
        Assert.NotEmpty(_run.ExpectedCostAndTokens);
        Assert.Empty(SeriesComparison.Mismatches(_run.ExpectedCostAndTokens, _run.LedgerCostAndTokenSeries));
    }

    [Fact]
    public void LedgerTotalSpendEqualsTheSumOfEveryPodsSpend() =>
        Assert.InRange(EndToEndRun.RelativeError(_run.LedgerTotal, _run.TruthCost), 0, 1e-9);

    [Fact]
    public void SpendTodayRecordingRuleEqualsTheTruth() =>
        Assert.InRange(EndToEndRun.RelativeError(_run.SpendToday, _run.TruthCost), 0, 1e-9);

    [Fact]
    public void LedgerTotalTokensEqualTheSumOfEveryPodsTokens() =>
        Assert.InRange(EndToEndRun.RelativeError(_run.LedgerTokens, _run.TruthTokens), 0, 1e-9);

    // The workload really exercised what the panels show: priced spend, throttling, no-context, both triggers, short pods.
    [Fact]
    public void WorkloadSpentMoneyOnPricedAnswers() =>
        Assert.True(_run.TruthCost > 0, "no priced spend");

    [Fact]
    public void WorkloadHitModelThrottling() =>
        Assert.True(Family("rag_llm_errors_total{", "error_type=\"throttling\"") > 0, "no throttling errors");

    [Fact]
    public void WorkloadAskedAQuestionWithNoContext() =>
        Assert.True(Family("rag_no_context_total{") > 0, "no no-context query");

    [Fact]
    public void WorkloadAnsweredQueueTriggeredQueries() =>
        Assert.True(Family("rag_requests_total{", "trigger=\"queue\"") > 0, "no queue-triggered query");

    [Fact]
    public void AtLeastTwoPodsLivedUnderOneScrapeInterval() =>
        Assert.True(_run.Lifetimes.Count(l => l.Seconds < PrometheusServer.ScrapeIntervalSeconds) >= 2, "fewer than two instances lived under one scrape interval");

    private double Family(string prefix, string? contains = null) =>
        _run.TruthTotals.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal) && (contains is null || t.Key.Contains(contains, StringComparison.Ordinal))).Sum(t => t.Value);
}
