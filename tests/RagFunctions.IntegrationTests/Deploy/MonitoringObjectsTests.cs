using System.Text.Json.Nodes;
using RagFunctions.IntegrationTests.Rules;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// The prometheus-operator objects the charts create from our values, built the way the charts' templates build them,
/// validated against the operator's CRD schemas: a typo in a relabeling or a rule group would be rejected at apply time.
/// </summary>
public sealed class MonitoringObjectsTests
{
    private static JsonNode? Values(string module, string file) => YamlJson.LoadSingle(Path.Combine(TerraformText.ModuleDir(module), "values", file));

    private static JsonObject Object(string kind, string name, JsonNode spec) => new()
    {
        ["apiVersion"] = "monitoring.coreos.com/v1",
        ["kind"] = kind,
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "monitoring" },
        ["spec"] = spec.DeepClone(),
    };

    private static void AssertValid(JsonObject obj) =>
        Assert.True(CrdSchemas.Violations(obj) is { Count: 0 }, $"{obj.Str("kind")}/{obj.Str("metadata.name")}: {string.Join('\n', CrdSchemas.Violations(obj))}");

    [Fact]
    public void RulesFileIsAValidPrometheusRuleSpec() =>
        // additionalPrometheusRulesMap: each entry's value becomes a PrometheusRule's spec.
        AssertValid(Object("PrometheusRule", "rag-rules", YamlJson.LoadAllText(RulesUnderTest.Render()).Single()!));

    [Fact]
    public void AdditionalPodMonitorsAreValidPodMonitors()
    {
        var monitors = Values("monitoring", "kube-prometheus-stack.yaml").Get("prometheus.additionalPodMonitors")!.AsArray();
        Assert.NotEmpty(monitors);
        foreach (var monitor in monitors.OfType<JsonObject>())
        {
            // The chart puts name (and additionalLabels) in metadata and the other fields in spec.
            var spec = new JsonObject(monitor.Where(kv => kv.Key is not "name" and not "additionalLabels")
                .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
            AssertValid(Object("PodMonitor", monitor.Str("name"), spec));
        }
    }

    [Fact]
    public void ServiceMonitorEndpointSettingsAreValid()
    {
        var keda = Values("keda", "keda.yaml").Get("prometheus.operator.serviceMonitor")!;
        var pushgateway = Values("monitoring", "prometheus-pushgateway.yaml").Get("serviceMonitor")!;
        var endpoints = new JsonArray(
            new JsonObject { ["port"] = "metrics", ["metricRelabelings"] = keda["metricRelabelings"]!.DeepClone() },
            new JsonObject
            {
                ["port"] = "http",
                ["relabelings"] = pushgateway["relabelings"]!.DeepClone(),
                ["basicAuth"] = pushgateway["basicAuth"]!.DeepClone(),
            });
        AssertValid(Object("ServiceMonitor", "endpoints", new JsonObject { ["selector"] = new JsonObject(), ["endpoints"] = endpoints }));

        var typo = Object("ServiceMonitor", "typo", new JsonObject
        {
            ["selector"] = new JsonObject(),
            ["endpoints"] = new JsonArray(new JsonObject { ["metricRelabelings"] = new JsonArray(new JsonObject { ["sourceLabel"] = new JsonArray("x") }) }),
        });
        Assert.NotEmpty(CrdSchemas.Violations(typo));
    }
}
