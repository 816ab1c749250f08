using System.Globalization;

namespace RagFunctions.Core.Budgets;

/// <summary>A budget window: the UTC day or the UTC month.</summary>
public enum BudgetWindow
{
    Daily,
    Monthly,
}

/// <summary>A budget limit's kind: soft (alert) or hard (enforced).</summary>
public enum BudgetLimitKind
{
    Soft,
    Hard,
}

/// <summary>Where windows start and end: 00:00 UTC, and 00:00 UTC on the 1st of the month.</summary>
public static class BudgetWindows
{
    public static IReadOnlyList<BudgetWindow> All { get; } = Enum.GetValues<BudgetWindow>();

    public static IReadOnlyList<BudgetLimitKind> Kinds { get; } = Enum.GetValues<BudgetLimitKind>();

    public static string LabelValue(this BudgetWindow window) => window switch
    {
        BudgetWindow.Daily => "daily",
        BudgetWindow.Monthly => "monthly",
        _ => throw new ArgumentOutOfRangeException(nameof(window)),
    };

    public static string LabelValue(this BudgetLimitKind kind) => kind switch
    {
        BudgetLimitKind.Soft => "soft",
        BudgetLimitKind.Hard => "hard",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Start of the window that contains <paramref name="at"/>, in UTC.</summary>
    public static DateTimeOffset Start(this BudgetWindow window, DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return window switch
        {
            BudgetWindow.Daily => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            BudgetWindow.Monthly => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(window)),
        };
    }

    /// <summary>When the window that contains <paramref name="at"/> ends and the next one starts at 0.</summary>
    public static DateTimeOffset ResetsAt(this BudgetWindow window, DateTimeOffset at) => window switch
    {
        BudgetWindow.Daily => window.Start(at).AddDays(1),
        BudgetWindow.Monthly => window.Start(at).AddMonths(1),
        _ => throw new ArgumentOutOfRangeException(nameof(window)),
    };

    /// <summary>The window's id: <c>2026-12-05</c> for a day, <c>2026-12</c> for a month. Ids of one window sort in time order.</summary>
    public static string Key(this BudgetWindow window, DateTimeOffset at) => window switch
    {
        BudgetWindow.Daily => window.Start(at).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        BudgetWindow.Monthly => window.Start(at).ToString("yyyy-MM", CultureInfo.InvariantCulture),
        _ => throw new ArgumentOutOfRangeException(nameof(window)),
    };
}
