using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RagFunctions.Verify;

/// <summary>One panel query of a dashboard, with Grafana's variables replaced so Prometheus can run it.</summary>
public sealed record DashboardQuery(string DashboardUid, string PanelTitle, string RefId, string Expr, string RawExpr);

/// <summary>
/// Loads every panel target of dashboards/*.json for running against a real Prometheus (verify and the tests).
/// Substitutions: $datasource/${datasource} dropped (it is the datasource, not PromQL); $environment from the
/// argument; $model = ".*" (the dashboards use it only in =~ matchers); text-box variables by their default;
/// $__rate_interval/$__interval by rateInterval; $__range by range; $__range_s in seconds.
/// </summary>
public static partial class DashboardQueries
{
    public static IReadOnlyList<DashboardQuery> Load(string dashboardsFolder, string environment = "dev",
        string rateInterval = "1m", string range = "1h")
    {
        var result = new List<DashboardQuery>();
        foreach (var file in Directory.GetFiles(dashboardsFolder, "*.json").Order(StringComparer.Ordinal))
        {
            var dashboard = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            var uid = dashboard["uid"]!.GetValue<string>();
            var values = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["environment"] = environment,
                ["model"] = ".*",
                ["__rate_interval"] = rateInterval,
                ["__interval"] = rateInterval,
                ["__range"] = range,
                ["__range_s"] = ((long)ParseDuration(range).TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var variable in dashboard["templating"]?["list"]?.AsArray() ?? [])
            {
                if (variable!["type"]?.GetValue<string>() is "textbox" or "constant" or "custom")
                {
                    values[variable["name"]!.GetValue<string>()] = variable["query"]!.GetValue<string>().Split(',')[0].Trim();
                }
            }
            foreach (var panel in Panels(dashboard))
            {
                foreach (var target in panel["targets"]?.AsArray() ?? [])
                {
                    if (target?["expr"]?.GetValue<string>() is not { Length: > 0 } raw)
                    {
                        continue;
                    }
                    result.Add(new DashboardQuery(uid, panel["title"]?.GetValue<string>() ?? "", target["refId"]?.GetValue<string>() ?? "",
                        Substitute(raw, values), raw));
                }
            }
        }
        return result;
    }

    /// <summary>Panels at the top level and inside collapsed rows.</summary>
    public static IEnumerable<JsonObject> Panels(JsonObject dashboard)
    {
        foreach (var panel in dashboard["panels"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            yield return panel;
            foreach (var inner in panel["panels"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                yield return inner;
            }
        }
    }

    public static string Substitute(string expr, IReadOnlyDictionary<string, string> values) =>
        Variable().Replace(expr, m =>
        {
            var name = m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value;
            return values.TryGetValue(name, out var v)
                ? v
                : throw new InvalidOperationException($"dashboard variable ${name} has no substitution in: {expr}");
        });

    private static TimeSpan ParseDuration(string d) => d[^1] switch
    {
        's' => TimeSpan.FromSeconds(double.Parse(d[..^1], System.Globalization.CultureInfo.InvariantCulture)),
        'm' => TimeSpan.FromMinutes(double.Parse(d[..^1], System.Globalization.CultureInfo.InvariantCulture)),
        'h' => TimeSpan.FromHours(double.Parse(d[..^1], System.Globalization.CultureInfo.InvariantCulture)),
        'd' => TimeSpan.FromDays(double.Parse(d[..^1], System.Globalization.CultureInfo.InvariantCulture)),
        _ => throw new FormatException($"duration {d}"),
    };

    [GeneratedRegex(@"\$\{(?<braced>\w+)(?::\w+)?\}|\$(?<plain>\w+)")]
    private static partial Regex Variable();
}
