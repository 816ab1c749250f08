using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.Verify;

namespace RagFunctions.IntegrationTests.Deploy;

public sealed partial class DashboardTests
{
    // uid → file: stable, so links and the seed's bookmarks keep working.
    private static readonly Dictionary<string, string> Uids = new()
    {
        ["cost.json"] = "rag-cost",
        ["performance.json"] = "rag-performance",
        ["fleet.json"] = "rag-fleet",
        ["rag-api-metrics.json"] = "rag-api-metrics",
    };

    // Recorded series named in the shared contract (rules file).
    private static readonly HashSet<string> ContractRecorded =
    [
        "rag:cost_dollars:rate5m", "rag:cost_dollars:rate1h", "rag:token_usage:rate5m",
        "rag:request_duration_seconds:p50", "rag:request_duration_seconds:p95", "rag:request_duration_seconds:p99",
        "rag:spend_today_dollars", "rag:spend_today_dollars:by_model", "rag:spend_month_dollars",
        "rag:cost_dollars_total:day_start", "rag:cost_dollars_total:month_start", "rag:live_instances",
    ];

    public static TheoryData<string> Files => [.. Uids.Keys];

    private static JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(DeployPaths.Repo("dashboards", file)))!.AsObject();

    private static IEnumerable<(JsonObject Panel, JsonObject Target)> Targets(JsonObject d) =>
        DashboardQueries.Panels(d).SelectMany(p => (p["targets"]?.AsArray() ?? []).OfType<JsonObject>().Select(t => (p, t)));

    [Fact]
    public void EveryDashboardHasItsStableUniqueUid()
    {
        var files = Directory.GetFiles(DeployPaths.Repo("dashboards"), "*.json").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(Uids.Keys.Order(), files);
        Assert.All(Uids, kv => Assert.Equal(kv.Value, Load(kv.Key)["uid"]!.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void DeclaresDatasourceEnvironmentAndModelVariablesAndCurrentSchema(string file)
    {
        var d = Load(file);
        Assert.True(d["schemaVersion"]!.GetValue<int>() >= 41, "schemaVersion must be what Grafana 12/13 writes (41+)");
        var variables = d["templating"]!["list"]!.AsArray().ToDictionary(v => v!["name"]!.GetValue<string>(), v => v!.AsObject());
        Assert.Equal("datasource", variables["datasource"]["type"]!.GetValue<string>());
        Assert.Equal("prometheus", variables["datasource"]["query"]!.GetValue<string>());
        Assert.Contains("environment", variables.Keys);
        Assert.Contains("model", variables.Keys);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryPanelTargetAndQueryVariableUsesTheDatasourceVariable(string file)
    {
        var d = Load(file);
        var holders = DashboardQueries.Panels(d).Where(p => p["type"]!.GetValue<string>() != "row").Cast<JsonNode>()
            .Concat(Targets(d).Select(x => x.Target))
            .Concat(d["templating"]!["list"]!.AsArray().Where(v => v!["type"]!.GetValue<string>() == "query")!)
            .Concat(d["annotations"]!["list"]!.AsArray().Where(a => a!["builtIn"] is null)!);
        Assert.All(holders, h => Assert.Equal("${datasource}", h!["datasource"]?["uid"]?.GetValue<string>()));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryRagSelectorPicksAJobOrARecordedSeries(string file)
    {
        var failures = new List<string>();
        foreach (var (panel, target) in Targets(Load(file)))
        {
            var expr = target["expr"]!.GetValue<string>();
            foreach (Match m in RagSelector().Matches(expr))
            {
                var matchers = m.Groups["matchers"].Value;
                if (matchers.Contains("job=\"rag-ledger\"", StringComparison.Ordinal))
                {
                    continue;
                }
                if (matchers.Contains("job=\"rag-functions\"", StringComparison.Ordinal)
                    && expr.Contains("push_time_seconds{job=\"rag-functions\"} > time() - 60", StringComparison.Ordinal))
                {
                    continue;
                }
                failures.Add($"{file} '{panel["title"]}': {m.Value} selects neither job=\"rag-ledger\" nor fresh job=\"rag-functions\" groups");
            }
            foreach (Match r in Recorded().Matches(expr))
            {
                if (!ContractRecorded.Contains(r.Value))
                {
                    failures.Add($"{file} '{panel["title"]}': {r.Value} is not a recorded series of the contract");
                }
            }
            if (RagSelector().Matches(expr).Count == 0 && Recorded().Matches(expr).Count == 0 && !ExternalSource().IsMatch(panel["description"]?.GetValue<string>() ?? ""))
            {
                failures.Add($"{file} '{panel["title"]}': a non-rag metric needs its source (kube-state-metrics, KEDA, Pushgateway...) in the description");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    /// <summary>
    /// The cost, performance and seed dashboards show one environment: every rag_ series and recorded series they read
    /// (the ledger's per-tenant budget gauges included) is filtered by the dashboard's environment variable.
    /// </summary>
    [Theory]
    [InlineData("cost.json")]
    [InlineData("performance.json")]
    [InlineData("rag-api-metrics.json")]
    public void EveryRagSeriesIsFilteredByTheEnvironmentVariable(string file)
    {
        var unfiltered = Targets(Load(file))
            .SelectMany(x => EnvironmentScoped().Matches(x.Target["expr"]!.GetValue<string>())
                .Where(m => !m.Groups["matchers"].Value.Contains("environment=\"$environment\"", StringComparison.Ordinal))
                .Select(m => $"{file} '{x.Panel["title"]}': {m.Value}"))
            .ToList();

        Assert.True(unfiltered.Count == 0, string.Join('\n', unfiltered));
    }

    [Fact]
    public void SelectorCheckCatchesTheSeedsUnscopedQuery()
    {
        Assert.Empty(RagSelector().Matches("sum(rag:spend_today_dollars{environment=\"dev\"})"));
        var seed = RagSelector().Match("sum(rate(rag_token_usage_total[5m]))");
        Assert.True(seed.Success);
        Assert.DoesNotContain("job=", seed.Groups["matchers"].Value, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void AlertStatesAreShownAsAnnotations(string file)
    {
        var annotations = Load(file)["annotations"]!["list"]!.AsArray();
        Assert.Contains(annotations, a => a!["expr"]?.GetValue<string>().StartsWith("ALERTS{alertstate=\"firing\"", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void SeedPanelsAreKeptAndReadTheLedger()
    {
        var seed = Load("rag-api-metrics.json");
        var panels = DashboardQueries.Panels(seed).ToDictionary(p => p["title"]!.GetValue<string>(), p => p["targets"]![0]!["expr"]!.GetValue<string>());
        Assert.Equal(["Request Latency (P95)", "Token Usage Rate (Tokens/sec)", "Total RAG Cost ($)"], panels.Keys.Order());
        Assert.Contains("rag_cost_dollars_total{job=\"rag-ledger\"", panels["Total RAG Cost ($)"], StringComparison.Ordinal);
        Assert.Contains("rag_token_usage_total{job=\"rag-ledger\"", panels["Token Usage Rate (Tokens/sec)"], StringComparison.Ordinal);
        Assert.Contains("rag_request_duration_seconds_bucket{job=\"rag-ledger\"", panels["Request Latency (P95)"], StringComparison.Ordinal);
    }

    [Fact]
    public void CostPerformanceAndFleetCoverTheIssuesPanels()
    {
        string Titles(string file) => string.Join('|', DashboardQueries.Panels(Load(file)).Select(p => p["title"]!.GetValue<string>()));
        Assert.All(new[] { "Spend today", "Spend this month", "by model ($/h)", "Cost per query p50 / p95", "Tokens by type", "Cache savings", "Unpriced tokens" },
            t => Assert.Contains(t, Titles("cost.json"), StringComparison.Ordinal));
        Assert.All(new[] { "Latency by stage p50", "Latency by stage p95", "Latency by stage p99", "Requests by trigger and outcome", "LLM errors by type", "throttling", "No-context rate" },
            t => Assert.Contains(t, Titles("performance.json"), StringComparison.Ordinal));
        Assert.All(new[] { "Live instances", "Replicas", "Scaler active", "Queue depth", "Poison messages", "Push failures", "Ledger lag", "Pushgateway groups" },
            t => Assert.Contains(t, Titles("fleet.json"), StringComparison.Ordinal));
    }

    [Fact]
    public void QueriesLoadWithEveryVariableSubstituted()
    {
        var queries = DashboardQueries.Load(DeployPaths.Repo("dashboards"), "dev");
        Assert.True(queries.Count >= 30);
        Assert.All(queries, q => Assert.DoesNotContain("$", q.Expr, StringComparison.Ordinal));
        Assert.Contains(queries, q => q.DashboardUid == "rag-cost" && q.Expr.Contains("environment=\"dev\"", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Expr.Contains("[1m]", StringComparison.Ordinal) && q.RawExpr.Contains("$__rate_interval", StringComparison.Ordinal));
    }

    // A rag_ metric name followed by its matcher block (if any).
    [GeneratedRegex(@"\brag_[a-z_]+(?:\{(?<matchers>[^}]*)\})?")]
    private static partial Regex RagSelector();

    [GeneratedRegex(@"\brag:[a-z_0-9:]+[a-z0-9]")]
    private static partial Regex Recorded();

    // A rag_ metric or rag: recorded series followed by its matcher block (if any).
    [GeneratedRegex(@"\brag(?:_[a-z_]+|:[a-z_0-9:]+[a-z0-9])(?:\{(?<matchers>[^}]*)\})?")]
    private static partial Regex EnvironmentScoped();

    [GeneratedRegex("kube-state-metrics|KEDA|Pushgateway|rules file", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalSource();
}
