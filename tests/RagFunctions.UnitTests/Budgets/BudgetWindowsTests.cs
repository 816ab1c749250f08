using RagFunctions.Core.Budgets;

namespace RagFunctions.UnitTests.Budgets;

public sealed class BudgetWindowsTests
{
    [Theory]
    [InlineData("2026-12-05T13:45:00Z", BudgetWindow.Daily, "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-05")]
    [InlineData("2026-12-31T23:59:59.999Z", BudgetWindow.Daily, "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12-31")]
    [InlineData("2026-12-31T23:59:59.999Z", BudgetWindow.Monthly, "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12")]
    [InlineData("2028-02-29T00:00:00Z", BudgetWindow.Monthly, "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", "2028-02")]
    [InlineData("2026-12-06T01:30:00+02:00", BudgetWindow.Daily, "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-05")]
    public void WindowsAreUtcDaysAndMonths(string at, BudgetWindow window, string start, string resetsAt, string key)
    {
        var instant = DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), window.Start(instant));
        Assert.Equal(DateTimeOffset.Parse(resetsAt, System.Globalization.CultureInfo.InvariantCulture), window.ResetsAt(instant));
        Assert.Equal(key, window.Key(instant));
        Assert.Equal(TimeSpan.Zero, window.Start(instant).Offset);
    }

    [Fact]
    public void LabelValuesAreTheDocumentedOnes()
    {
        Assert.Equal(["daily", "monthly"], BudgetWindows.All.Select(w => w.LabelValue()));
        Assert.Equal(["soft", "hard"], BudgetWindows.Kinds.Select(k => k.LabelValue()));
    }
}
