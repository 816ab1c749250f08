using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RagFunctions.IntegrationTests.Deploy;

/// <summary>
/// Checks a Helm values key path against a chart's default values.yaml. A path is valid when each segment
/// exists in the defaults, except where the defaults hold a place for keys of the user's choosing:
/// a list (an index or list content is the user's) or a map whose default is empty ({}).
/// A segment under a scalar or null default fails, as does a segment missing from a non-empty map.
/// </summary>
public sealed partial class HelmValuesKeys(JsonNode? defaults, HelmValuesKeys? subchartFallback = null, string? subchartKey = null)
{
    public static HelmValuesKeys ForChart(string chart) => new(DeployPaths.ChartDefaults(chart));

    /// <summary>kube-prometheus-stack: keys under grafana.* may also be the grafana sub-chart's own.</summary>
    public static HelmValuesKeys KubePrometheusStack() => new(DeployPaths.ChartDefaults("kube-prometheus-stack"), ForChart("grafana"), "grafana");

    /// <summary>Null when the path exists; otherwise why not.</summary>
    public string? Check(IReadOnlyList<string> path)
    {
        var own = Walk(defaults, path);
        if (own is null || subchartFallback is null || path.Count < 2 || path[0] != subchartKey)
        {
            return own;
        }
        var sub = subchartFallback.Check([.. path.Skip(1)]);
        return sub is null ? null : $"{own}; and in the {subchartKey} sub-chart: {sub}";
    }

    private static string? Walk(JsonNode? node, IReadOnlyList<string> path)
    {
        for (var i = 0; i < path.Count; i++)
        {
            var at = string.Join('.', path.Take(i));
            switch (node)
            {
                case JsonArray:
                    return null;
                case JsonObject { Count: 0 }:
                    return null;
                case JsonObject map when map.TryGetPropertyValue(path[i], out var child):
                    node = child;
                    break;
                case JsonObject:
                    return $"'{path[i]}' is not a key of '{at}' in the chart defaults";
                default:
                    return $"'{at}' is a scalar or null in the chart defaults; it has no key '{path[i]}'";
            }
        }
        return null;
    }

    /// <summary>Every leaf key path of a values file (lists end the path: their content belongs to the user).</summary>
    public static IEnumerable<IReadOnlyList<string>> LeafPaths(JsonNode? node, IReadOnlyList<string>? prefix = null)
    {
        prefix ??= [];
        if (node is JsonObject map && map.Count > 0)
        {
            foreach (var (key, child) in map)
            {
                foreach (var p in LeafPaths(child, [.. prefix, key]))
                {
                    yield return p;
                }
            }
        }
        else
        {
            yield return prefix;
        }
    }

    /// <summary>Helm --set syntax: dots separate keys unless escaped (\.), [n] indexes a list.</summary>
    public static IReadOnlyList<string> ParseSetName(string name)
    {
        var parts = new List<string>();
        foreach (var raw in UnescapedDot().Split(name))
        {
            var key = raw.Replace("\\.", ".", StringComparison.Ordinal);
            var m = IndexSuffix().Match(key);
            if (m.Success)
            {
                parts.Add(key[..m.Index]);
                parts.AddRange(m.Groups[1].Captures.Select(c => $"[{c.Value}]"));
            }
            else
            {
                parts.Add(key);
            }
        }
        return parts;
    }

    [GeneratedRegex(@"(?<!\\)\.")]
    private static partial Regex UnescapedDot();

    [GeneratedRegex(@"(?:\[(\d+)\])+$")]
    private static partial Regex IndexSuffix();
}
