using System.Text.RegularExpressions;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>
/// Where each metric a dashboard or rule query reads comes from. The end-to-end stack runs every local source for real;
/// the external ones (exporters of a Kubernetes cluster) cannot run here.
/// </summary>
internal static partial class MetricSources
{
    /// <summary>Sources the end-to-end stack runs.</summary>
    public static string? Local(string metric) => metric switch
    {
        _ when metric.StartsWith("rag_", StringComparison.Ordinal) => "the app's pusher (job=rag-functions) and the ledger (job=rag-ledger)",
        _ when metric.StartsWith("rag:", StringComparison.Ordinal) => "the recording rules (terraform/modules/monitoring/rules/rag-rules.yaml)",
        "push_time_seconds" or "push_failure_time_seconds" => "the Pushgateway (per group)",
        "up" or "ALERTS" => "Prometheus itself",
        _ => null,
    };

    /// <summary>Sources that only exist in a cluster; null for a metric of no known source.</summary>
    public static string? External(string metric) => metric switch
    {
        // kube-state-metrics (deployed by kube-prometheus-stack): kube_deployment_*, kube_horizontalpodautoscaler_*.
        _ when metric.StartsWith("kube_", StringComparison.Ordinal) => "kube-state-metrics",
        // The KEDA operator's metrics endpoint (keda chart, prometheus.operator.enabled): keda_scaler_*.
        _ when metric.StartsWith("keda_", StringComparison.Ordinal) => "the KEDA operator",
        _ => null,
    };

    private static readonly HashSet<string> Keywords =
        ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"];

    /// <summary>The metric names a PromQL expression selects (functions, keywords, labels, strings and durations left out).</summary>
    public static IReadOnlySet<string> MetricNames(string expr)
    {
        var stripped = Strings().Replace(expr, " ");
        stripped = Matchers().Replace(stripped, " ");
        stripped = Ranges().Replace(stripped, " ");
        stripped = Grouping().Replace(stripped, " ");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match token in Tokens().Matches(stripped))
        {
            if (token.Groups["id"].Success && !token.Groups["call"].Success && !Keywords.Contains(token.Groups["id"].Value.ToLowerInvariant()))
            {
                names.Add(token.Groups["id"].Value);
            }
        }

        return names;
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", RegexOptions.IgnoreCase)]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<num>\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?<id>[A-Za-z_:][A-Za-z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Tokens();
}
