using System.Globalization;
using System.Text;
using RagFunctions.Core.Budgets;

namespace RagFunctions.Ledger;

/// <summary>The ledger's own gauges and counters, exposed beside the totals under rag_ledger_* (never folded).</summary>
/// <param name="BoundedFamilies">Families with a plausibility bound: each has a rag_ledger_implausible_deltas_total series from 0 on.</param>
/// <param name="LastFoldSeconds">Duration of the last cycle from reading the groups to its commit.</param>
/// <param name="Budgets">The tenants and limits: when set, their spend and limits are exposed as rag_budget_* gauges.</param>
public sealed record LedgerSelfMetrics(double LastCycleTime, int PushgatewayGroups, IReadOnlyCollection<string>? BoundedFamilies = null, ExposedBudgets? Budgets = null,
    double LastFoldSeconds = 0);

/// <summary>
/// What the rag_budget_* gauges are made of: the tenants and limits, and the <c>environment</c> label they carry
/// (<c>Rag:Environment</c>, the setting the app stamps on the series the ledger folds), so the budget alerts and panels
/// select and match per environment like every other rag_ series.
/// </summary>
public sealed record ExposedBudgets(TenantBudgets Tenants, string Environment);

/// <summary>Renders the ledger's /metrics (text format 0.0.4) and applies the first-sample hold-back.</summary>
public static class LedgerExposition
{
    /// <summary>
    /// The ledger's /metrics text. A unit never served before, or first served less than <paramref name="holdSeconds"/>
    /// ago, is rendered at 0 (all buckets, sum and count of a histogram together): Prometheus' first sample of every
    /// ledger series is 0, so rate()/increase() see its first increment.
    /// Returns the units rendered for the first time; the caller stamps them, as this scrape served their zero.
    /// </summary>
    public static (string Text, IReadOnlyList<LedgerUnit> FirstServed) Render(LedgerState state, double now, double holdSeconds, LedgerSelfMetrics self)
    {
        var text = new StringBuilder();
        var firstServed = new List<LedgerUnit>();
        foreach (var family in state.Units.Values.GroupBy(u => u.Family).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (!state.Families.TryGetValue(family.Key, out var info))
            {
                continue;
            }

            text.Append("# HELP ").Append(family.Key).Append(' ').Append(EscapeHelp(info.Help)).Append('\n');
            text.Append("# TYPE ").Append(family.Key).Append(' ').Append(info.Type).Append('\n');
            foreach (var unit in family.OrderBy(u => u.Labels, StringComparer.Ordinal))
            {
                if (unit.FirstServedAt is null)
                {
                    firstServed.Add(unit);
                }

                var exposed = unit.FirstServedAt is { } first && now - first >= holdSeconds;
                if (info.Type == "histogram")
                {
                    AppendHistogram(text, unit, exposed);
                }
                else
                {
                    AppendLine(text, unit.Family, unit.Labels, null, exposed ? unit.Values.GetValueOrDefault(SamplePart.Counter) : 0);
                }
            }
        }

        AppendSelf(text, "rag_ledger_commits_total", "counter", "State commits of the ledger (fold results and first-push stamps).", state.Counters.Commits);
        AppendSelf(text, "rag_ledger_groups_retired_total", "counter", "Stale instance groups folded one last time and deleted from the Pushgateway.", state.Counters.GroupsRetired);
        AppendSelf(text, "rag_ledger_stale_replays_ignored_total", "counter", "Instance groups with a value below what the ledger had folded (late, replayed or restored older pushes); they add nothing.", state.Counters.StaleReplaysIgnored);
        AppendSelf(text, "rag_ledger_tombstoned_pushes_dropped_total", "counter", "Groups of already retired instances that reappeared and were deleted uncounted.", state.Counters.TombstonedPushesDropped);
        AppendSelf(text, "rag_ledger_foreign_groups_total", "counter", "Groups pushed to the Pushgateway under the ledger's own job (forged or misconfigured); counted once per push and deleted.", state.Counters.ForeignGroups);
        AppendSelf(text, "rag_ledger_groups_vanished_total", "counter", "Instance groups that disappeared from the Pushgateway before they went stale; what they pushed after the last fold is lost.", state.Counters.GroupsVanished);
        AppendImplausible(text, state, self.BoundedFamilies ?? []);
        AppendSelf(text, "rag_ledger_last_fold_timestamp_seconds", "gauge", "Unix time of the ledger's last commit (every cycle commits, at least its lease): its age is the ledger's staleness.", self.LastCycleTime);
        AppendSelf(text, "rag_ledger_tracked_instances", "gauge", "Instances with watermarks (live or not yet retired).", state.Instances.Count);
        AppendSelf(text, "rag_ledger_tombstones", "gauge", "Retired instance ids remembered.", state.Tombstones.Count);
        AppendSelf(text, "rag_ledger_pushgateway_groups", "gauge", "Groups on the Pushgateway at the last fold (pod groups, and any pushed under the ledger's job).", self.PushgatewayGroups);
        AppendSelf(text, "rag_ledger_fold_seconds", "gauge", "Duration of the last cycle from reading the Pushgateway's groups to its commit (read, parse, fold, commit).", self.LastFoldSeconds);
        if (self.Budgets is { } budgets)
        {
            AppendBudgets(text, state.Spend, budgets.Tenants, budgets.Environment, DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(now * 1000)));
        }

        return (text.ToString(), firstServed);
    }

    /// <summary>
    /// rag_budget_spent_dollars{environment,tenant,window} for every tenant and <c>_all</c> (0 included: the alert rules
    /// compare series, and a window begun since the last fold shows 0), and rag_budget_limit_dollars{environment,kind,tenant,window}
    /// for each configured limit. Values are the exact decimals, written out in full.
    /// </summary>
    private static void AppendBudgets(StringBuilder text, TenantSpend spend, TenantBudgets budgets, string environment, DateTimeOffset now)
    {
        string[] tenants = [.. budgets.Names, BudgetOptions.AllTenants];
        text.Append("# HELP rag_budget_spent_dollars Exact USD spent in the current UTC day or month, per tenant (tenant=\"_all\": all tenants), as folded by the ledger.\n");
        text.Append("# TYPE rag_budget_spent_dollars gauge\n");
        foreach (var row in spend.Rows(budgets.Names, now))
        {
            AppendDecimal(text, "rag_budget_spent_dollars", $"environment=\"{environment}\",tenant=\"{row.Tenant}\",window=\"{row.Window.LabelValue()}\"", row.Spent);
        }

        text.Append("# HELP rag_budget_limit_dollars Configured budget limit in USD per tenant, window and kind (soft: alert, hard: enforced); tenant=\"_all\" is the global budget.\n");
        text.Append("# TYPE rag_budget_limit_dollars gauge\n");
        foreach (var window in BudgetWindows.All)
        {
            foreach (var tenant in tenants)
            {
                foreach (var kind in BudgetWindows.Kinds)
                {
                    if (budgets.Limit(tenant, window, kind) is { } limit)
                    {
                        AppendDecimal(text, "rag_budget_limit_dollars", $"environment=\"{environment}\",kind=\"{kind.LabelValue()}\",tenant=\"{tenant}\",window=\"{window.LabelValue()}\"", limit);
                    }
                }
            }
        }
    }

    private static void AppendDecimal(StringBuilder text, string name, string labels, decimal value) =>
        text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void AppendImplausible(StringBuilder text, LedgerState state, IEnumerable<string> bounded)
    {
        const string name = "rag_ledger_implausible_deltas_total";
        text.Append("# HELP ").Append(name).Append(" Folds in which one instance's increase of the metric exceeded its plausibility bound (still folded).\n");
        text.Append("# TYPE ").Append(name).Append(" counter\n");
        foreach (var family in bounded.Union(state.Counters.ImplausibleDeltas.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            AppendLine(text, name, "metric=\"" + family + "\"", null, state.Counters.ImplausibleDeltas.GetValueOrDefault(family));
        }
    }

    private static void AppendHistogram(StringBuilder text, LedgerUnit unit, bool exposed)
    {
        var buckets = new List<(double Bound, double Value)>();
        foreach (var (part, value) in unit.Values)
        {
            if (SamplePart.TryGetBucket(part, out var bound))
            {
                buckets.Add((bound, value));
            }
        }

        buckets.Sort((a, b) => a.Bound.CompareTo(b.Bound));
        foreach (var (bound, value) in buckets)
        {
            AppendLine(text, unit.Family + "_bucket", unit.Labels, SamplePart.FormatBound(bound), exposed ? value : 0);
        }

        AppendLine(text, unit.Family + "_sum", unit.Labels, null, exposed ? unit.Values.GetValueOrDefault(SamplePart.Sum) : 0);
        AppendLine(text, unit.Family + "_count", unit.Labels, null, exposed ? unit.Values.GetValueOrDefault(SamplePart.Count) : 0);
    }

    private static void AppendLine(StringBuilder text, string name, string labels, string? le, double value)
    {
        text.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            text.Append('{').Append(labels);
            if (le is not null)
            {
                text.Append(labels.Length > 0 ? "," : string.Empty).Append("le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(SamplePart.FormatValue(value)).Append('\n');
    }

    private static void AppendSelf(StringBuilder text, string name, string type, string help, double value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        AppendLine(text, name, string.Empty, null, value);
    }

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
