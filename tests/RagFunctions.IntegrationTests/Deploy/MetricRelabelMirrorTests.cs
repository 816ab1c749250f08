using System.Text.Json.Nodes;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// The Pushgateway job's relabelling in the local Prometheus configs (the compose file's and the one scripts/dev writes)
/// is the Terraform ServiceMonitor's metricRelabelings, rule for rule, so a local run keeps the series the cluster keeps.
/// </summary>
public sealed class MetricRelabelMirrorTests
{
    [Fact]
    public void TheComposePrometheusRelabelsThePushgatewayAsTerraformDoes()
    {
        var config = YamlJson.LoadSingle(Path.Combine(Prerequisites.RepoRoot, "scripts", "compose", "prometheus.yml"));

        AssertSameRules(PushgatewayRelabelling(config, "scripts/compose/prometheus.yml"));
    }

    [Fact]
    public void ThePrometheusConfigOfScriptsDevRelabelsThePushgatewayAsTerraformDoes()
    {
        var script = File.ReadAllText(Path.Combine(Prerequisites.RepoRoot, "scripts", "dev"));
        const string start = "cat >\"$dev/prometheus/prometheus.yml\" <<EOF\n";
        var from = script.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, "scripts/dev no longer writes prometheus.yml with a here-document");
        from += start.Length;
        var to = script.IndexOf("\nEOF\n", from, StringComparison.Ordinal);
        // Shell variables ($host, $pushgateway_port, …) stay literal text: YAML reads them as plain strings.
        var config = YamlJson.LoadAllText(script[from..to]).Single();

        AssertSameRules(PushgatewayRelabelling(config, "scripts/dev"));
    }

    private static JsonArray PushgatewayRelabelling(JsonNode? config, string source)
    {
        var job = config!["scrape_configs"]!.AsArray().SingleOrDefault(j => j!["job_name"]?.GetValue<string>() == "pushgateway");
        Assert.True(job is not null, $"{source}: no scrape job named pushgateway");
        return job!["metric_relabel_configs"]?.AsArray() ?? [];
    }

    private static void AssertSameRules(JsonArray local)
    {
        var terraform = MetricRelabelConfigs.Pushgateway();
        Assert.True(terraform.Count >= 4, $"Terraform's Pushgateway metricRelabelings: {terraform.ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(terraform, local), $"Terraform: {terraform.ToJsonString()}\nlocal:     {local.ToJsonString()}");
    }
}
