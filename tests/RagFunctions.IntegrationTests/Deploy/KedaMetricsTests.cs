using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Rules;
using RagFunctions.Verify;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// KEDA's operator metrics as the stack's Prometheus stores them. The keda chart's ServiceMonitor does not honor
/// labels, so Prometheus moves KEDA's own namespace label (the ScaledObject's) to exported_namespace and sets namespace
/// to KEDA's. A real Prometheus scrapes a stand-in of the operator's /metrics the way prometheus-operator configures
/// it for that ServiceMonitor (target labels, honor_labels false, the values file's metricRelabelings), and the
/// Fleet panels' KEDA queries must find the app's ScaledObjects.
/// </summary>
public sealed partial class KedaMetricsTests
{
    // What the KEDA operator (pkg/metricscollector) exposes for the rag-batch ScaledObject's two azure-queue triggers.
    private const string Exposition = """
        # TYPE keda_scaler_active gauge
        keda_scaler_active{metric="s0-azure-queue-rag-queries",namespace="rag",scaledObject="rag-batch",scaler="azureQueueScaler",triggerIndex="0",type="scaledobject"} 1
        keda_scaler_active{metric="s1-azure-queue-rag-queries-poison",namespace="rag",scaledObject="rag-batch",scaler="azureQueueScaler",triggerIndex="1",type="scaledobject"} 0
        # TYPE keda_scaler_metrics_value gauge
        keda_scaler_metrics_value{metric="s0-azure-queue-rag-queries",namespace="rag",scaledObject="rag-batch",scaler="azureQueueScaler",triggerIndex="0",type="scaledobject"} 120
        keda_scaler_metrics_value{metric="s1-azure-queue-rag-queries-poison",namespace="rag",scaledObject="rag-batch",scaler="azureQueueScaler",triggerIndex="1",type="scaledobject"} 0
        # TYPE keda_build_info gauge
        keda_build_info{git_commit="unknown",goarch="amd64",goos="linux",goversion="go1.24.4",version="2.20.2"} 1

        """;

    private static readonly string PromtoolFile = Path.Combine(RulesUnderTest.PromtoolTestsFolder, "keda-scrape.test.yaml");

    [Fact]
    public async Task FleetPanelsFindTheAppsScaledObjectsInARealScrapeOfKeda()
    {
        await using var keda = await StandIn.StartAsync(Exposition);
        await using var prometheus = await PrometheusServer.StartWithScrapeConfigsAsync(ScrapeConfig(keda.Port));
        await Poll.UntilAsync(async () => (await prometheus.QueryAsync("keda_build_info")).Count > 0, TimeSpan.FromSeconds(30), "KEDA scraped");

        var queries = DashboardQueries.Load(DeployPaths.Repo("dashboards")).Where(q => q.RawExpr.Contains("keda_scaler_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(queries);
        var empty = new List<string>();
        foreach (var q in queries)
        {
            if ((await prometheus.QueryAsync(q.Expr)).Count == 0)
            {
                empty.Add($"{q.DashboardUid} '{q.PanelTitle}': {q.Expr}");
            }
        }
        var stored = await prometheus.QueryAsync("keda_scaler_metrics_value");
        Assert.True(empty.Count == 0,
            $"panels with no data:\n{string.Join('\n', empty)}\nstored: {string.Join("; ", stored.Select(s => string.Join(',', s.Labels.Select(l => $"{l.Key}={l.Value}"))))}");

        // The promtool test of QueueBacklogGrowing is fed series of exactly this shape.
        var promtoolLabels = PromtoolSeriesLabels("keda_scaler_metrics_value");
        Assert.NotEmpty(promtoolLabels);
        Assert.All(promtoolLabels, labels =>
        {
            Assert.Equal(stored[0].Labels.Keys.Where(k => k != "__name__").Order(), labels.Keys.Order());
            Assert.Equal("rag", labels["namespace"]);
        });
        Assert.All(stored, s => Assert.Equal("rag", s.Labels["namespace"]));
    }

    /// <summary>
    /// What prometheus-operator generates for the keda-operator ServiceMonitor: the target's namespace, service, pod,
    /// container and endpoint labels, job from the service name, honor_labels false (the chart sets no honorLabels),
    /// and the values file's metricRelabelings as metric_relabel_configs.
    /// </summary>
    private static string ScrapeConfig(int port)
    {
        const string monitorPath = "prometheus.operator.serviceMonitor";
        var values = YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir("keda"), "values", "keda.yaml"));
        var defaults = DeployPaths.ChartDefaults("keda");
        Assert.Null(values.Get(monitorPath)!["honorLabels"] ?? defaults.Get(monitorPath)!["honorLabels"]);
        var relabelings = MetricRelabelConfigs.FromTerraformValues("keda", "keda.yaml", monitorPath);
        return $$"""
            scrape_configs:
              - job_name: serviceMonitor/keda/keda-operator/0
                honor_labels: false
                static_configs:
                  - targets: ["127.0.0.1:{{port}}"]
                    labels: {namespace: keda, service: keda-operator, pod: keda-operator-6c9b8d7f5-q2x7m, container: keda-operator, endpoint: metrics, job: keda-operator}
                metric_relabel_configs: {{relabelings.ToJsonString()}}

            """;
    }

    /// <summary>The labels of each input series of <paramref name="metric"/> in the KEDA promtool test.</summary>
    private static List<Dictionary<string, string>> PromtoolSeriesLabels(string metric) =>
        [.. SeriesLine().Matches(File.ReadAllText(PromtoolFile)).Where(m => m.Groups["name"].Value == metric)
            .Select(m => LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(p => p.Groups[1].Value, p => p.Groups[2].Value))];

    [GeneratedRegex(@"series:\s*'(?<name>[a-z_:]+)\{(?<labels>[^}]*)\}'")]
    private static partial Regex SeriesLine();

    [GeneratedRegex(@"(\w+)=""([^""]*)""")]
    private static partial Regex LabelPair();

    /// <summary>A loopback /metrics endpoint serving a fixed exposition.</summary>
    private sealed class StandIn(WebApplication app) : IAsyncDisposable
    {
        public int Port { get; } = new Uri(app.Urls.Single()).Port;

        public static async Task<StandIn> StartAsync(string exposition)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapGet("/metrics", () => Results.Text(exposition, "text/plain; version=0.0.4"));
            await app.StartAsync();
            return new StandIn(app);
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
