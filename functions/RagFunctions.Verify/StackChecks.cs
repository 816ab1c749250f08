using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RagFunctions.Verify;

/// <summary>
/// The seed's verification checklist against a running stack: Pushgateway reachable, Prometheus scraping it with
/// honor_labels, the ledger scraped and fresh, rag_ series present, rules loaded and healthy, Alertmanager connected, and every
/// dashboard panel query returning data. Each check reports; none stops the others.
/// </summary>
public sealed partial class StackChecks(VerifyOptions options, StackHttp http)
{
    /// <summary>The contract's metric table; the ledger re-exposes each (histograms as _bucket/_sum/_count).</summary>
    public static IReadOnlyList<string> RagMetricNames { get; } =
    [
        "rag_cost_dollars_total", "rag_token_usage_total", "rag_request_duration_seconds", "rag_requests_total",
        "rag_llm_errors_total", "rag_query_cost_dollars", "rag_retrieved_documents", "rag_no_context_total",
        "rag_unpriced_tokens_total", "rag_function_invocations_total", "rag_function_duration_seconds",
        "rag_poison_messages_total", "rag_metrics_push_failures_total", "rag_budget_rejections_total",
    ];

    private const string PushgatewayJob = "pushgateway";
    private const string LedgerJob = "rag-ledger";

    private Uri Prometheus => options.Prometheus;

    public async IAsyncEnumerable<CheckResult> RunAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return await Guard("pushgateway-reachable", PushgatewayReachableAsync, cancellationToken);
        var prometheus = await Guard("prometheus-reachable", PrometheusReachableAsync, cancellationToken);
        yield return prometheus;
        if (prometheus.Status == CheckStatus.Fail)
        {
            yield return CheckResult.Fail("prometheus-checks", "not run: Prometheus is not reachable");
            yield break;
        }

        yield return await Guard("pushgateway-scraped", PushgatewayScrapedAsync, cancellationToken);
        yield return await Guard("honor-labels", HonorLabelsAsync, cancellationToken);
        yield return await Guard("ledger-fresh", LedgerFreshAsync, cancellationToken);
        yield return await Guard("rag-series", RagSeriesAsync, cancellationToken);
        yield return await Guard("rules-healthy", RulesHealthyAsync, cancellationToken);
        yield return await Guard("alertmanager-connected", AlertmanagerConnectedAsync, cancellationToken);
        if (options.Alertmanager is not null)
        {
            yield return await Guard("alertmanager-reachable", AlertmanagerReachableAsync, cancellationToken);
        }

        await foreach (var panel in DashboardPanelsAsync(cancellationToken))
        {
            yield return panel;
        }
    }

    private async Task<CheckResult> PushgatewayReachableAsync(string name, CancellationToken ct)
    {
        var url = new Uri(options.Pushgateway, "-/ready");
        await http.GetAsync(url, ct);
        return CheckResult.Pass(name, $"{url} ready");
    }

    private async Task<CheckResult> PrometheusReachableAsync(string name, CancellationToken ct)
    {
        var url = new Uri(Prometheus, "-/ready");
        await http.GetAsync(url, ct);
        return CheckResult.Pass(name, $"{url} ready");
    }

    private async Task<CheckResult> AlertmanagerReachableAsync(string name, CancellationToken ct)
    {
        var url = new Uri(options.Alertmanager!, "-/ready");
        await http.GetAsync(url, ct);
        return CheckResult.Pass(name, $"{url} ready");
    }

    private async Task<CheckResult> PushgatewayScrapedAsync(string name, CancellationToken ct)
    {
        var data = await http.PrometheusApiAsync(Prometheus, "api/v1/targets?state=active", ct);
        var targets = data.GetProperty("activeTargets").EnumerateArray()
            .Where(t => t.GetProperty("labels").TryGetProperty("job", out var job) && job.GetString() == PushgatewayJob)
            .Select(t => (Url: t.GetProperty("scrapeUrl").GetString(), Health: t.GetProperty("health").GetString(), Error: t.GetProperty("lastError").GetString()))
            .ToList();
        if (targets.Count == 0)
        {
            return CheckResult.Fail(name, $"Prometheus has no target of job=\"{PushgatewayJob}\": add the scrape job (honor_labels: true)");
        }

        var down = targets.Where(t => t.Health != "up").ToList();
        return down.Count == 0
            ? CheckResult.Pass(name, $"job=\"{PushgatewayJob}\" target(s) up: {string.Join(", ", targets.Select(t => t.Url))}")
            : CheckResult.Fail(name, string.Join("; ", down.Select(t => $"{t.Url} is {t.Health}: {t.Error}")));
    }

    // Without honor_labels Prometheus renames each pushed group's job to exported_job and sets job="pushgateway".
    private async Task<CheckResult> HonorLabelsAsync(string name, CancellationToken ct)
    {
        var renamed = await http.QueryAsync(Prometheus, "count(push_time_seconds{exported_job=~\".+\"})", ct);
        if (renamed.Count > 0)
        {
            return CheckResult.Fail(name, $"{renamed[0].Value} push_time_seconds series carry exported_job: scrape the Pushgateway with honor_labels: true");
        }

        var kept = await http.QueryAsync(Prometheus, $"count by (job) (push_time_seconds{{job!=\"{PushgatewayJob}\"}})", ct);
        return kept.Count > 0
            ? CheckResult.Pass(name, $"pushed jobs keep their label: {string.Join(", ", kept.Select(s => s.Labels.GetValueOrDefault("job")).Order(StringComparer.Ordinal))}")
            : CheckResult.Fail(name, "no push_time_seconds series with a pushed job label: nothing pushed yet, or the job labels are rewritten");
    }

    /// <summary>Prometheus scrapes the ledger (some replica up) and the lease holder's last commit is recent.</summary>
    private async Task<CheckResult> LedgerFreshAsync(string name, CancellationToken ct)
    {
        var up = await http.QueryAsync(Prometheus, $"up{{job=\"{LedgerJob}\"}}", ct);
        if (up.Count == 0 || up.All(s => s.Value < 1))
        {
            return CheckResult.Fail(name, up.Count == 0
                ? $"no up{{job=\"{LedgerJob}\"}}: Prometheus has no scrape job for the ledger's /metrics"
                : $"up{{job=\"{LedgerJob}\"}} is 0 for all {up.Count} targets: Prometheus cannot scrape the ledger (is it running, is its port admitted?)");
        }

        var ages = await http.QueryAsync(Prometheus, $"time() - rag_ledger_last_fold_timestamp_seconds{{job=\"{LedgerJob}\"}}", ct);
        if (ages.Count == 0)
        {
            return CheckResult.Fail(name, $"no rag_ledger_last_fold_timestamp_seconds{{job=\"{LedgerJob}\"}}: no ledger replica serves its totals (standby only, or it cannot commit)");
        }

        var age = ages.Min(s => s.Value);
        var text = age.ToString("0.0", CultureInfo.InvariantCulture);
        return age <= options.MaxLedgerAge.TotalSeconds
            ? CheckResult.Pass(name, $"{up.Count(s => s.Value >= 1)} ledger target(s) up, last commit {text}s ago")
            : CheckResult.Fail(name, $"last ledger commit {text}s ago, over {options.MaxLedgerAge.TotalSeconds}s: the ledger is stalled or stopped");
    }

    private async Task<CheckResult> RagSeriesAsync(string name, CancellationToken ct)
    {
        var names = (await http.QueryAsync(Prometheus,
                $"count by (__name__) ({{__name__=~\"rag_.+\", job=\"{LedgerJob}\", environment=\"{options.Environment}\"}})", ct))
            .ToDictionary(s => s.Labels.GetValueOrDefault("__name__") ?? string.Empty, s => s.Value, StringComparer.Ordinal);
        var missing = RagMetricNames.Where(m => !names.ContainsKey(m) && !names.ContainsKey(m + "_count")).ToList();
        return missing.Count == 0
            ? CheckResult.Pass(name, $"{names.Values.Sum()} rag_ series of job=\"{LedgerJob}\", environment=\"{options.Environment}\" ({RagMetricNames.Count} metrics)")
            : CheckResult.Fail(name, $"missing for job=\"{LedgerJob}\", environment=\"{options.Environment}\": {string.Join(", ", missing)}");
    }

    private async Task<CheckResult> RulesHealthyAsync(string name, CancellationToken ct)
    {
        var expected = ExpectedRuleGroups(options.RulesFile, options.Environment);
        var data = await http.PrometheusApiAsync(Prometheus, "api/v1/rules", ct);
        var groups = data.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("name").GetString()!, StringComparer.Ordinal);
        var missing = expected.Where(g => !groups.ContainsKey(g)).ToList();
        var rules = expected.Where(groups.ContainsKey).SelectMany(g => groups[g].GetProperty("rules").EnumerateArray()).ToList();
        var failing = rules.Where(r => r.GetProperty("health").GetString() == "err")
            .Select(r => $"{r.GetProperty("name").GetString()}: {(r.TryGetProperty("lastError", out var e) ? e.GetString() : "")}").ToList();
        var pending = rules.Count(r => r.GetProperty("health").GetString() == "unknown");
        if (missing.Count > 0 || failing.Count > 0)
        {
            var problems = missing.Select(g => $"group {g} not loaded").Concat(failing);
            return CheckResult.Fail(name, string.Join("; ", problems));
        }

        var note = pending > 0 ? $", {pending} not evaluated yet" : string.Empty;
        return CheckResult.Pass(name, $"{expected.Count} groups, {rules.Count} rules loaded, none failing{note}");
    }

    private async Task<CheckResult> AlertmanagerConnectedAsync(string name, CancellationToken ct)
    {
        var data = await http.PrometheusApiAsync(Prometheus, "api/v1/alertmanagers", ct);
        var active = data.GetProperty("activeAlertmanagers").EnumerateArray().Select(a => a.GetProperty("url").GetString()).ToList();
        return active.Count > 0
            ? CheckResult.Pass(name, $"Prometheus sends alerts to {string.Join(", ", active)}")
            : CheckResult.Fail(name, "Prometheus has no active Alertmanager: check alerting.alertmanagers and that it is up");
    }

    private async IAsyncEnumerable<CheckResult> DashboardPanelsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        IReadOnlyList<DashboardQuery> queries;
        string? loadError = null;
        try
        {
            queries = DashboardQueries.Load(options.DashboardsFolder, options.Environment, options.RateInterval);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            queries = [];
            loadError = ex.Message;
        }

        if (loadError is not null || queries.Count == 0)
        {
            yield return CheckResult.Fail("dashboards", loadError ?? $"no panel queries in {options.DashboardsFolder}");
            yield break;
        }

        double? liveInstances = null;
        foreach (var query in queries)
        {
            var name = $"panel {query.DashboardUid} / {query.PanelTitle} / {query.RefId}";
            if (options.NoKubernetes && KubernetesMetric().Match(query.Expr) is { Success: true } k)
            {
                yield return CheckResult.Skip(name, $"reads {k.Value} (kube-state-metrics/KEDA), not scraped outside a cluster");
                continue;
            }

            CheckResult result;
            try
            {
                var samples = await http.QueryAsync(Prometheus, query.Expr, ct);
                if (samples.Count > 0)
                {
                    result = CheckResult.Pass(name, $"{samples.Count} series");
                }
                else if (query.Expr.Contains("job=\"rag-functions\"", StringComparison.Ordinal)
                         && (liveInstances ??= (await http.QueryAsync(Prometheus, "sum(rag:live_instances)", ct)).FirstOrDefault()?.Value ?? 0) == 0)
                {
                    result = CheckResult.Skip(name, "no data, and no instance pushed in the last 60s (scaled to zero?): live per-pod view");
                }
                else
                {
                    result = CheckResult.Fail(name, $"no data: {query.Expr}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                result = CheckResult.Fail(name, ex.Message);
            }

            yield return result;
        }
    }

    /// <summary>Group names of the rules template (its <c>- name:</c> entries) with <c>${environment}</c> filled in.</summary>
    public static IReadOnlyList<string> ExpectedRuleGroups(string rulesFile, string environment) =>
        [.. RuleGroupName().Matches(File.ReadAllText(rulesFile)).Select(m => m.Groups["name"].Value.Replace("${environment}", environment, StringComparison.Ordinal))];

    private static async Task<CheckResult> Guard(string name, Func<string, CancellationToken, Task<CheckResult>> check, CancellationToken ct)
    {
        try
        {
            return await check(name, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            return CheckResult.Fail(name, ex is TaskCanceledException ? "timed out" : ex.Message);
        }
    }

    [GeneratedRegex(@"^  - name:\s*(?<name>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex RuleGroupName();

    [GeneratedRegex(@"\b(?:kube|keda)_[a-z_]+")]
    private static partial Regex KubernetesMetric();
}
