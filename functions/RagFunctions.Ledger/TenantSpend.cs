using System.Globalization;
using RagFunctions.Core.Budgets;

namespace RagFunctions.Ledger;

/// <summary>
/// Spend per tenant in the current UTC day and month, as exact decimals, kept in the ledger state (so a restart or a
/// handover continues it exactly). Windows are those of the fold that folded the spend: what a pod spent a few seconds
/// before midnight and the ledger folds after it counts for the new day (the lag is the push plus the fold interval).
/// </summary>
public sealed class TenantSpend
{
    /// <summary>The current day's <see cref="BudgetWindows.Key"/>; empty before the first fold.</summary>
    public string Day { get; set; } = string.Empty;

    /// <summary>The current month's <see cref="BudgetWindows.Key"/>; empty before the first fold.</summary>
    public string Month { get; set; } = string.Empty;

    /// <summary>Tenant → USD folded today. Tenants without spend are left out (0).</summary>
    public Dictionary<string, decimal> Daily { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Tenant → USD folded this month.</summary>
    public Dictionary<string, decimal> Monthly { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts a new day or month (its spend at 0) when <paramref name="at"/> is in a later one. Never goes back: a
    /// replica whose clock is behind keeps adding to the current window rather than resetting it.
    /// </summary>
    /// <returns>Whether a window rolled over.</returns>
    public bool RollTo(DateTimeOffset at)
    {
        var rolled = Roll(BudgetWindow.Daily, at, Day, Daily, key => Day = key);
        return Roll(BudgetWindow.Monthly, at, Month, Monthly, key => Month = key) | rolled;
    }

    /// <summary>Adds <paramref name="usd"/> to the tenant's day and month.</summary>
    public void Add(string tenant, decimal usd)
    {
        Daily[tenant] = Saturating(Daily.GetValueOrDefault(tenant), usd);
        Monthly[tenant] = Saturating(Monthly.GetValueOrDefault(tenant), usd);
    }

    /// <summary>The spend of every tenant together (saturating, like <see cref="Add"/>).</summary>
    public static decimal Total(IReadOnlyDictionary<string, decimal> spent) => spent.Values.Aggregate(0m, Saturating);

    /// <summary>
    /// A sum that stops at decimal's range instead of throwing: only forged pushes get there (they are counted as
    /// implausible), and an OverflowException would fail every fold cycle on the same groups and stop the ledger.
    /// </summary>
    private static decimal Saturating(decimal a, decimal b)
    {
        try
        {
            return a + b;
        }
        catch (OverflowException)
        {
            return b > 0 ? decimal.MaxValue : decimal.MinValue;
        }
    }

    /// <summary>The window this spend belongs to, as of <paramref name="at"/>: 0 for a window that has begun since (not folded into yet).</summary>
    public IReadOnlyDictionary<string, decimal> Of(BudgetWindow window, DateTimeOffset at)
    {
        var (key, spend) = window == BudgetWindow.Daily ? (Day, Daily) : (Month, Monthly);
        return string.CompareOrdinal(window.Key(at), key) > 0 ? new Dictionary<string, decimal>() : spend;
    }

    /// <summary>
    /// The spend of each of <paramref name="tenants"/> and of <c>_all</c>, per window, as of <paramref name="now"/> (0
    /// included): what the ledger writes to the budgets table and serves as rag_budget_spent_dollars, defined once.
    /// </summary>
    public IEnumerable<BudgetRow> Rows(IReadOnlyList<string> tenants, DateTimeOffset now)
    {
        foreach (var window in BudgetWindows.All)
        {
            var spent = Of(window, now);
            var start = StartOf(window, now);
            var resetsAt = window.ResetsAt(start);
            foreach (var tenant in tenants)
            {
                yield return new BudgetRow(tenant, window, spent.GetValueOrDefault(tenant), start, resetsAt, now);
            }

            yield return new BudgetRow(BudgetOptions.AllTenants, window, Total(spent), start, resetsAt, now);
        }
    }

    /// <summary>The start of the window the stored spend belongs to (the current one when the state is new).</summary>
    public DateTimeOffset StartOf(BudgetWindow window, DateTimeOffset at)
    {
        var key = window == BudgetWindow.Daily ? Day : Month;
        var format = window == BudgetWindow.Daily ? "yyyy-MM-dd" : "yyyy-MM";
        return key.Length > 0 && string.CompareOrdinal(window.Key(at), key) <= 0
            ? new DateTimeOffset(DateTime.ParseExact(key, format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), TimeSpan.Zero)
            : window.Start(at);
    }

    /// <summary>
    /// The exact decimal of a pushed counter value: its shortest round-trip text (what the Pushgateway's text also
    /// denotes), so sums over instances and folds carry no binary rounding. Null when it is beyond decimal's range.
    /// </summary>
    public static decimal? Exact(double value) =>
        decimal.TryParse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var exact) ? exact : null;

    private static bool Roll(BudgetWindow window, DateTimeOffset at, string current, Dictionary<string, decimal> spend, Action<string> set)
    {
        var key = window.Key(at);
        if (string.CompareOrdinal(key, current) <= 0)
        {
            return false;
        }

        spend.Clear();
        set(key);
        return true;
    }
}
