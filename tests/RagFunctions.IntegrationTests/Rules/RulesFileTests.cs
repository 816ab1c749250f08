using System.Text.RegularExpressions;

namespace RagFunctions.IntegrationTests.Rules;

public sealed partial class RulesFileTests
{
    private static readonly string[] ContractAlerts =
    [
        "DailyBudgetExceeded", "MonthlyBudgetExceeded", "BudgetBurnRateHigh", "HighCostSpike", "PushgatewayDown",
        "MetricsPushFailing", "LedgerStalled", "LedgerForeignGroups", "LedgerGroupsVanished", "LedgerImplausibleDelta", "HighP95Latency", "LLMErrorRate", "LLMThrottling", "UnpricedModelUsage",
        "PoisonMessages", "QueueBacklogGrowing", "TenantBudgetWarning", "TenantBudgetEnforced",
    ];

    private static readonly string[] ContractRecords =
    [
        "rag:cost_dollars:rate5m", "rag:cost_dollars:rate1h", "rag:token_usage:rate5m",
        "rag:request_duration_seconds:p50", "rag:request_duration_seconds:p95", "rag:request_duration_seconds:p99",
        "rag:spend_today_dollars", "rag:spend_today_dollars:by_model", "rag:spend_month_dollars",
        "rag:cost_dollars_total:day_start", "rag:cost_dollars_total:month_start", "rag:live_instances",
    ];

    [Fact]
    public void DefinesExactlyTheContractAlerts()
    {
        var alerts = RulesUnderTest.Alerts().Select(a => a.Alert!).ToList();

        Assert.Equal(ContractAlerts.Order(), alerts.Order());
    }

    [Fact]
    public void RecordsTheContractSeries()
    {
        var records = RulesUnderTest.Parse().Groups.SelectMany(g => g.Rules).Select(r => r.Record).OfType<string>().ToList();

        Assert.Equal(ContractRecords.Order(), records.Order());
    }

    [Fact]
    public void EveryAlertHasSummaryDescriptionSeverityAndRunbookUrl()
    {
        foreach (var alert in RulesUnderTest.Alerts())
        {
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("summary")), $"{alert.Alert}: summary");
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("description")), $"{alert.Alert}: description");
            Assert.Contains(alert.Labels.GetValueOrDefault("severity"), new[] { "critical", "warning", "info" });
            Assert.Equal($"{RulesUnderTest.RunbookBaseUrl}/runbooks/{RulesUnderTest.Kebab(alert.Alert!)}.md", alert.Annotations.GetValueOrDefault("runbook_url"));
        }
    }

    [Fact]
    public void KebabNamesMatchTheContract()
    {
        Assert.Equal("llm-error-rate", RulesUnderTest.Kebab("LLMErrorRate"));
        Assert.Equal("high-p95-latency", RulesUnderTest.Kebab("HighP95Latency"));
        Assert.Equal("pushgateway-down", RulesUnderTest.Kebab("PushgatewayDown"));
    }

    /// <summary>The runbooks are the RAG corpus; every alert links to one that ships.</summary>
    [Fact]
    public void EveryAlertRunbookExistsInTheCorpus()
    {
        var folder = RulesUnderTest.RepoPath("functions/corpus/runbooks");

        var missing = RulesUnderTest.Alerts().Select(a => $"{RulesUnderTest.Kebab(a.Alert!)}.md")
            .Where(file => !File.Exists(Path.Combine(folder, file))).ToList();

        Assert.True(missing.Count == 0, $"missing in functions/corpus/runbooks: {string.Join(", ", missing)}");
    }

    [Fact]
    public void EveryExpressionSelectsTheJobOfRagAndPushMetrics()
    {
        var violations = RulesUnderTest.Parse().Groups.SelectMany(g => g.Rules)
            .SelectMany(r => UnscopedSelectors(r.Expr).Select(v => $"{r.Record ?? r.Alert}: {v}")).ToList();

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Theory]
    [InlineData("sum(rate(rag_cost_dollars_total[5m]))", "rag_cost_dollars_total")]
    [InlineData("rag_requests_total{environment=\"x\"} > 0", "rag_requests_total")]
    [InlineData("time() - push_time_seconds > 60", "push_time_seconds")]
    [InlineData("push_failure_time_seconds{instance=\"job\"}", "push_failure_time_seconds")]
    public void SelectorCheckFlagsAMetricWithoutJob(string expr, string metric)
    {
        Assert.Equal([metric], UnscopedSelectors(expr).Select(v => v.Split('{')[0]));
    }

    [Fact]
    public void SelectorCheckAcceptsExplicitJobs()
    {
        Assert.Empty(UnscopedSelectors("rag_x_total{job=\"rag-ledger\"} / push_time_seconds{ environment=\"e\", job=~\"rag-functions|rag-ledger\" } and rag:spend_today_dollars"));
    }

    /// <summary>References to rag_* or push_*_seconds whose selector has no job= / job=~ matcher.</summary>
    internal static IEnumerable<string> UnscopedSelectors(string expr)
    {
        foreach (Match match in ScopedMetric().Matches(expr))
        {
            var rest = expr[(match.Index + match.Length)..].TrimStart();
            var body = rest.StartsWith('{') ? rest[1..rest.IndexOf('}', StringComparison.Ordinal)] : string.Empty;
            if (!JobMatcher().IsMatch(body))
            {
                yield return $"{match.Value}{{{body}}}";
            }
        }
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9_:])(rag_[a-z0-9_]+|push_time_seconds|push_failure_time_seconds)(?![A-Za-z0-9_:])")]
    private static partial Regex ScopedMetric();

    [GeneratedRegex(@"(^|,)\s*job\s*=~?\s*""[^""]+""")]
    private static partial Regex JobMatcher();
}
