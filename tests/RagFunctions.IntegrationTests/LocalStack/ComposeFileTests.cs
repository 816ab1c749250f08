using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Deploy;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.LocalStack;

/// <summary>scripts/docker-compose.yml cannot run here (no Docker): its structure and its Prometheus config are checked instead.</summary>
public sealed partial class ComposeFileTests
{
    private static readonly JsonObject Services = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "docker-compose.yml")).Get("services")!.AsObject();

    [Fact]
    public void RunsTheSameStackAsScriptsDevPlusGrafana()
    {
        Assert.Equal(
            ["alertmanager", "app", "azurite", "grafana", "ledger", "prometheus", "pushgateway", "rules"],
            Services.Select(s => s.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void PinsEveryImageByTagAndPublishesPortsOnLoopbackOnly()
    {
        foreach (var (name, service) in Services)
        {
            var image = service.Str("image");
            Assert.True(PinnedImage().IsMatch(image) && !image.EndsWith(":latest", StringComparison.Ordinal), $"{name}: image {image} is not pinned by tag");
            foreach (var port in service!["ports"]?.AsArray() ?? [])
            {
                Assert.StartsWith("127.0.0.1:", port!.GetValue<string>(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void GrafanaPasswordComesFromTheEnvironmentWithoutADefault()
    {
        var password = Services["grafana"].Str("environment.GF_SECURITY_ADMIN_PASSWORD");
        Assert.Matches(@"^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}$", password);
    }

    [Fact]
    public void GrafanaMountsTheDashboardsWhereItsProviderLooks()
    {
        var provider = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "grafana", "provisioning", "dashboards", "rag.yml"))!["providers"]![0]!;
        var mounts = Services["grafana"]!["volumes"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        Assert.Contains($"../dashboards:{provider.Str("options.path")}:ro", mounts);
        Assert.Contains("./grafana/provisioning:/etc/grafana/provisioning:ro", mounts);
        var datasource = YamlJson.LoadSingle(DeployPaths.Repo("scripts", "grafana", "provisioning", "datasources", "prometheus.yml"))!["datasources"]![0]!;
        Assert.Equal("prometheus", datasource.Str("type"));
        Assert.Equal("http://prometheus:9090", datasource.Str("url"));
    }

    [Fact]
    public void RulesServiceReplacesEveryPlaceholderOfTheTemplate()
    {
        var script = string.Join(' ', Services["rules"]!["command"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.All(RulesTemplate.Placeholders, p => Assert.Contains($"s|$${{{p}}}|", script, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PrometheusConfigScrapesThePushgatewayWithHonorLabelsAndPassesPromtool()
    {
        var path = DeployPaths.Repo("scripts", "compose", "prometheus.yml");
        var config = YamlJson.LoadSingle(path)!;
        var pushgateway = config["scrape_configs"]!.AsArray().Single(j => j.Str("job_name") == "pushgateway")!;
        Assert.True(pushgateway["honor_labels"]!.GetValue<bool>());

        // As mounted in the container: the config next to rules/rag-rules.yaml, rendered from the template.
        var folder = Directory.CreateTempSubdirectory("compose-prometheus-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "rules"));
            File.Copy(path, Path.Combine(folder, "prometheus.yml"));
            await File.WriteAllTextAsync(Path.Combine(folder, "rules", "rag-rules.yaml"), RulesTemplate.Render(DeployPaths.Repo(RulesTemplate.RelativePath),
                new Dictionary<string, string>
                {
                    ["environment"] = "local", ["daily_budget_usd"] = "5", ["monthly_budget_usd"] = "100", ["burn_rate_hours"] = "6",
                    ["runbook_base_url"] = "https://example.invalid/corpus",
                }));
            var check = await ProcessRunner.RunAsync(Prerequisites.Promtool, ["check", "config", "prometheus.yml"], TimeSpan.FromSeconds(60), folder);
            Assert.True(check.ExitCode == 0, check.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [GeneratedRegex(@"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$")]
    private static partial Regex PinnedImage();
}
