using System.Globalization;
using System.Text.Json;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// A real Prometheus scraping, every second, one Pushgateway with honor_labels and the ledger replicas' /metrics as job
/// rag-ledger, with the scrape configs the project ships (<see cref="ScrapeConfigs"/>), or whatever a test gives it;
/// queried through its HTTP API; optionally evaluating a rules file every second and sending alerts to an Alertmanager.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const double ScrapeIntervalSeconds = 1;

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _folder;
    private readonly BackgroundServer _server;

    private PrometheusServer(string folder, BackgroundServer server)
    {
        _folder = folder;
        _server = server;
    }

    public Uri Url => new($"http://127.0.0.1:{_server.Port}");

    /// <summary>
    /// The two scrape jobs as scripts/dev, the compose file and Terraform write them. The Pushgateway job keeps pushed
    /// labels (honor_labels) and relabels with the Pushgateway ServiceMonitor's metricRelabelings, read from the Terraform
    /// values file (<see cref="MetricRelabelConfigs.Pushgateway"/>): it drops any series pushed under job="rag-ledger"
    /// (only the ledger's own /metrics carries the totals) and keeps only the few per-pod series the fleet views, rules
    /// and verify read. The ledger job gives every replica's series one instance label, so a handover between replicas (only
    /// the lease holder serves) continues the same series instead of starting new ones.
    /// </summary>
    /// <param name="pushgatewayRelabelling">The Pushgateway job's metric_relabel_configs; null: Terraform's (the default).</param>
    /// <param name="pushgatewayScrapeSeconds">The Pushgateway job's scrape interval and timeout; null: the global <see cref="ScrapeIntervalSeconds"/>.</param>
    public static string ScrapeConfigs(int pushgatewayPort, IEnumerable<int> ledgerPorts, System.Text.Json.Nodes.JsonArray? pushgatewayRelabelling = null,
        int? pushgatewayScrapeSeconds = null) => $"""
        scrape_configs:
          - job_name: pushgateway
            honor_labels: true
            {(pushgatewayScrapeSeconds is { } seconds ? $"scrape_interval: {seconds}s\n    scrape_timeout: {seconds}s" : string.Empty)}
            static_configs:
              - targets: ["127.0.0.1:{pushgatewayPort}"]
            metric_relabel_configs: {(pushgatewayRelabelling ?? MetricRelabelConfigs.Pushgateway()).ToJsonString()}
          - job_name: rag-ledger
            static_configs:
              - targets: [{string.Join(", ", ledgerPorts.Select(p => $"\"127.0.0.1:{p}\""))}]
            metric_relabel_configs:
              - target_label: instance
                replacement: rag-ledger

        """;

    /// <param name="pushgatewayPort">Loopback port of the Pushgateway to scrape.</param>
    /// <param name="ledgerPorts">Loopback /metrics ports of the ledger replicas to scrape as job rag-ledger.</param>
    /// <param name="rules">Rendered rules file text (evaluated every second), or null for none.</param>
    /// <param name="alertmanagerPort">Loopback port of an Alertmanager to send alerts to, or null for none.</param>
    public static Task<PrometheusServer> StartAsync(int pushgatewayPort, IEnumerable<int> ledgerPorts, string? rules = null, int? alertmanagerPort = null) =>
        StartWithScrapeConfigsAsync(ScrapeConfigs(pushgatewayPort, ledgerPorts), rules, alertmanagerPort);

    /// <param name="scrapeConfigs">The whole scrape_configs section, as YAML at the top level.</param>
    /// <param name="rules">Rendered rules file text (evaluated every second), or null for none.</param>
    /// <param name="alertmanagerPort">Loopback port of an Alertmanager to send alerts to, or null for none.</param>
    public static async Task<PrometheusServer> StartWithScrapeConfigsAsync(string scrapeConfigs, string? rules = null, int? alertmanagerPort = null)
    {
        var folder = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        var ruleFiles = string.Empty;
        if (rules is not null)
        {
            var rulesPath = Path.Combine(folder, "rules.yaml");
            await File.WriteAllTextAsync(rulesPath, rules);
            ruleFiles = $"rule_files: [\"{rulesPath}\"]\n";
        }

        var alerting = alertmanagerPort is { } am
            ? $"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"127.0.0.1:{am}\"]\n"
            : string.Empty;
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: {ScrapeIntervalSeconds}s
              evaluation_interval: {ScrapeIntervalSeconds}s

            """ + scrapeConfigs + ruleFiles + alerting);
        var port = FreePort.Next();
        var server = await BackgroundServer.StartAsync("prometheus", Prerequisites.Prometheus,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ], port);
        var prometheus = new PrometheusServer(folder, server);
        await prometheus.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        return prometheus;
    }

    /// <summary>The port opens before the TSDB is loaded; queries answer 503 until /-/ready does.</summary>
    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await Http.GetAsync(new Uri(Url, "/-/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Still starting.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Prometheus at {Url} was not ready within {timeout}:\n{_server.Output}");
    }

    /// <summary>An instant query: each series' labels (without __name__ folded in) and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string expression, double? at = null)
    {
        var result = await ApiAsync(expression, at);
        return result.EnumerateArray().Select(item => (
            (IReadOnlyDictionary<string, string>)item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty),
            ParseValue(item.GetProperty("value")[1].GetString()!))).ToList();
    }

    /// <summary>A range-vector query (e.g. <c>x[10m]</c>): every raw sample of each series, oldest first.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(double Time, double Value)> Samples)>> RawSamplesAsync(string rangeExpression)
    {
        var result = await ApiAsync(rangeExpression, null);
        return result.EnumerateArray().Select(item => (
            (IReadOnlyDictionary<string, string>)item.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty),
            (IReadOnlyList<(double, double)>)item.GetProperty("values").EnumerateArray()
                .Select(v => (v[0].GetDouble(), ParseValue(v[1].GetString()!))).ToList())).ToList();
    }

    /// <summary>
    /// Returns once Prometheus has scraped every target of <paramref name="job"/> <paramref name="scrapes"/> times after
    /// now, so what it stores includes every value those targets served up to now. Replaces a fixed sleep before reading.
    /// </summary>
    public async Task UntilScrapedAsync(string job, int scrapes = 2)
    {
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        for (var i = 0; i < scrapes; i++)
        {
            var since = after;
            double latest = 0;
            await Poll.UntilAsync(async () =>
            {
                var stamps = await QueryAsync($"timestamp(up{{job=\"{job}\"}})");
                latest = stamps.Count == 0 ? 0 : stamps.Min(s => s.Value);
                return latest > since;
            }, TimeSpan.FromSeconds(30), $"Prometheus scrapes job {job} after {since:F3}");
            after = latest;
        }
    }

    public ValueTask DisposeAsync()
    {
        _server.Dispose();
        TempFolder.TryDelete(_folder);
        return ValueTask.CompletedTask;
    }

    private async Task<JsonElement> ApiAsync(string expression, double? at)
    {
        var query = "query=" + Uri.EscapeDataString(expression) + (at is { } t ? "&time=" + t.ToString("R", CultureInfo.InvariantCulture) : string.Empty);
        using var response = await Http.GetAsync(new Uri(Url, "/api/v1/query?" + query));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Prometheus query {expression} failed: {(int)response.StatusCode} {body}");
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, CultureInfo.InvariantCulture),
    };
}
