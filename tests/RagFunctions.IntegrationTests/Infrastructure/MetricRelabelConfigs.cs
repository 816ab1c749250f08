using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Deploy;

namespace RagFunctions.IntegrationTests.Infrastructure;

/// <summary>
/// A ServiceMonitor's <c>metricRelabelings</c> from a Terraform values file, as the <c>metric_relabel_configs</c>
/// prometheus-operator generates from them (camelCase keys to Prometheus' snake_case: sourceLabels → source_labels).
/// Fixtures read them from the values file, so the tests' Prometheus relabels as the cluster's does.
/// </summary>
public static partial class MetricRelabelConfigs
{
    /// <param name="module">Terraform module under terraform/modules.</param>
    /// <param name="valuesFile">File name under the module's values folder.</param>
    /// <param name="monitorPath">Dotted path of the ServiceMonitor block in that file (e.g. serviceMonitor).</param>
    public static JsonArray FromTerraformValues(string module, string valuesFile, string monitorPath)
    {
        var path = Path.Combine(TerraformText.ModuleDir(module), "values", valuesFile);
        var monitor = YamlJson.LoadSingle(path).Get(monitorPath) ?? throw new InvalidOperationException($"{path}: no {monitorPath}");
        return new JsonArray([.. (monitor["metricRelabelings"]?.AsArray() ?? []).Select(r => (JsonNode)new JsonObject(
            r!.AsObject().Select(kv => KeyValuePair.Create(SnakeCase(kv.Key), kv.Value?.DeepClone()))))]);
    }

    /// <summary>The Pushgateway ServiceMonitor's metricRelabelings (terraform/modules/monitoring).</summary>
    public static JsonArray Pushgateway() => FromTerraformValues("monitoring", "prometheus-pushgateway.yaml", "serviceMonitor");

    private static string SnakeCase(string camel) => UpperCase().Replace(camel, m => "_" + m.Value.ToLowerInvariant());

    [GeneratedRegex("[A-Z]")]
    private static partial Regex UpperCase();
}
