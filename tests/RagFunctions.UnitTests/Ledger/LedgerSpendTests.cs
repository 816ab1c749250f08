using System.Globalization;
using RagFunctions.Core.Budgets;
using RagFunctions.Ledger;

namespace RagFunctions.UnitTests.Ledger;

/// <summary>The fold's spend per tenant and window: exact decimals, allow-listed tenants, UTC windows of the fold time.</summary>
public sealed class LedgerSpendTests
{
    private const string Cost = "rag_cost_dollars_total";
    private const double Stale = 300;
    private const double Retention = 3600;

    private static readonly TenantBudgets Tenants = new(new BudgetOptions
    {
        Tenants = [new() { KeyName = "acme-key", Name = "acme", Daily = new() { Soft = 0.1m, Hard = 0.2m } }, new() { KeyName = "globex-key", Name = "globex" }],
        Budgets = new() { Monthly = new() { Hard = 100m } },
    });

    private static double At(string utc) =>
        DateTimeOffset.Parse(utc, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0;

    /// <summary>One instance's group: a cost series per tenant label (null: no tenant label).</summary>
    private static InstanceGroup Group(string instance, double pushTime, params (string? Tenant, double Cost)[] costs) => new(
        instance, pushTime, new Dictionary<string, FamilyInfo> { [Cost] = new("counter", "Cost.") },
        [.. costs.Select(c => new Sample(Cost, c.Tenant is null ? "environment=\"dev\",model=\"m\"" : $"environment=\"dev\",model=\"m\",tenant=\"{c.Tenant}\"", SamplePart.Counter, c.Cost))]);

    [Fact]
    public void SumsExactlyPerTenantWhereDoublesWouldRound()
    {
        var state = new LedgerState();
        var now = At("2026-12-05T10:00:00Z");

        // In binary, 0.30000000000000004 + 0.1 rounds to 0.4; the ledger adds the exact decimals of what each pod pushed.
        LedgerFold.Fold(state, [Group("a", now, ("acme", 0.1)), Group("b", now, ("acme", 0.2))], now, Stale, Retention, tenants: Tenants);
        LedgerFold.Fold(state, [Group("a", now + 5, ("acme", 0.30000000000000004)), Group("b", now + 5, ("acme", 0.2))], now + 5, Stale, Retention, tenants: Tenants);

        Assert.Equal(0.4, 0.30000000000000004 + 0.1);
        Assert.Equal(0.50000000000000004m, state.Spend.Daily["acme"]);
        Assert.Equal(0.50000000000000004m, state.Spend.Monthly["acme"]);
        Assert.Equal(("2026-12-05", "2026-12"), (state.Spend.Day, state.Spend.Month));
    }

    [Fact]
    public void ForgedHugeCostsSaturateInsteadOfStoppingTheFold()
    {
        var state = new LedgerState();
        var now = At("2026-12-05T10:00:00Z");

        // Each value is within decimal's range; their sum is not. An OverflowException would fail every cycle on the same groups.
        LedgerFold.Fold(state, [Group("a", now, ("acme", 5e28)), Group("b", now, ("acme", 5e28))], now, Stale, Retention, tenants: Tenants);

        Assert.Equal(decimal.MaxValue, state.Spend.Daily["acme"]);
        Assert.Equal(decimal.MaxValue, TenantSpend.Total(new Dictionary<string, decimal> { ["acme"] = decimal.MaxValue, ["globex"] = 1m }));
    }

    [Fact]
    public void UnknownOrMissingTenantLabelsCountForDefault()
    {
        var state = new LedgerState();
        var now = At("2026-12-05T10:00:00Z");

        LedgerFold.Fold(state, [Group("a", now, (null, 0.25), ("intruder", 0.5), ("globex", 0.125), ("acme", 1))], now, Stale, Retention, tenants: Tenants);

        Assert.Equal(0.75m, state.Spend.Daily["default"]);
        Assert.Equal(0.125m, state.Spend.Daily["globex"]);
        Assert.Equal(1m, state.Spend.Daily["acme"]);
        Assert.DoesNotContain("intruder", state.Spend.Daily.Keys);
    }

    [Fact]
    public void MidnightStartsANewDayAndTheFirstOfTheMonthANewMonth()
    {
        var state = new LedgerState();
        var before = At("2026-12-31T23:59:58Z");

        LedgerFold.Fold(state, [Group("a", before, ("acme", 1.5))], before, Stale, Retention, tenants: Tenants);
        var rolled = LedgerFold.Fold(state, [Group("a", before, ("acme", 1.5))], At("2027-01-01T00:00:01Z"), Stale, Retention, tenants: Tenants);
        LedgerFold.Fold(state, [Group("a", before + 10, ("acme", 2))], At("2027-01-01T00:00:06Z"), Stale, Retention, tenants: Tenants);

        Assert.True(rolled.Changed, "a rollover with nothing new to fold is still a change to commit");
        Assert.Equal(("2027-01-01", "2027-01"), (state.Spend.Day, state.Spend.Month));
        Assert.Equal(0.5m, state.Spend.Daily["acme"]);
        Assert.Equal(0.5m, state.Spend.Monthly["acme"]);
    }

    [Fact]
    public void ADayRolloverKeepsTheMonth()
    {
        var state = new LedgerState();

        LedgerFold.Fold(state, [Group("a", At("2026-12-05T23:59:50Z"), ("globex", 3))], At("2026-12-05T23:59:55Z"), Stale, Retention, tenants: Tenants);
        LedgerFold.Fold(state, [Group("a", At("2026-12-06T00:00:10Z"), ("globex", 4))], At("2026-12-06T00:00:15Z"), Stale, Retention, tenants: Tenants);

        Assert.Equal(1m, state.Spend.Daily["globex"]);
        Assert.Equal(4m, state.Spend.Monthly["globex"]);
    }

    [Fact]
    public void AClockBehindTheStoredWindowNeverResetsIt()
    {
        var state = new LedgerState();

        LedgerFold.Fold(state, [Group("a", At("2026-12-06T00:00:00Z"), ("acme", 1))], At("2026-12-06T00:00:01Z"), Stale, Retention, tenants: Tenants);
        LedgerFold.Fold(state, [Group("a", At("2026-12-05T23:59:58Z"), ("acme", 2))], At("2026-12-05T23:59:59Z"), Stale, Retention, tenants: Tenants);

        Assert.Equal("2026-12-06", state.Spend.Day);
        Assert.Equal(2m, state.Spend.Daily["acme"]);
    }

    [Fact]
    public void ExpositionShowsSpendPerTenantTheGlobalSumAndTheConfiguredLimitsInTheConfiguredEnvironment()
    {
        var state = new LedgerState();
        var now = At("2026-12-05T10:00:00Z");
        LedgerFold.Fold(state, [Group("a", now, ("acme", 0.1), ("globex", 0.2))], now, Stale, Retention, tenants: Tenants);

        var (text, _) = LedgerExposition.Render(state, now, 0, new LedgerSelfMetrics(now, 1, null, new ExposedBudgets(Tenants, "dev")));
        var (nextDay, _) = LedgerExposition.Render(state, At("2026-12-06T00:00:00Z"), 0, new LedgerSelfMetrics(now, 1, null, new ExposedBudgets(Tenants, "dev")));

        Assert.Contains("rag_budget_spent_dollars{environment=\"dev\",tenant=\"acme\",window=\"daily\"} 0.1\n", text, StringComparison.Ordinal);
        Assert.Contains("rag_budget_spent_dollars{environment=\"dev\",tenant=\"_all\",window=\"daily\"} 0.3\n", text, StringComparison.Ordinal);
        Assert.Contains("rag_budget_spent_dollars{environment=\"dev\",tenant=\"default\",window=\"monthly\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("rag_budget_limit_dollars{environment=\"dev\",kind=\"soft\",tenant=\"acme\",window=\"daily\"} 0.1\n", text, StringComparison.Ordinal);
        Assert.Contains("rag_budget_limit_dollars{environment=\"dev\",kind=\"hard\",tenant=\"_all\",window=\"monthly\"} 100\n", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split('\n').Count(l => l.StartsWith("rag_budget_limit_dollars{", StringComparison.Ordinal)) - 1);
        Assert.All(text.Split('\n').Where(l => l.StartsWith("rag_budget_", StringComparison.Ordinal)), l => Assert.Contains("{environment=\"dev\",", l, StringComparison.Ordinal));
        // A day begun since the last fold shows 0 at once; the month goes on.
        Assert.Contains("rag_budget_spent_dollars{environment=\"dev\",tenant=\"acme\",window=\"daily\"} 0\n", nextDay, StringComparison.Ordinal);
        Assert.Contains("rag_budget_spent_dollars{environment=\"dev\",tenant=\"acme\",window=\"monthly\"} 0.1\n", nextDay, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("environment=\"dev\",model=\"m\",tenant=\"acme\"", "acme")]
    [InlineData("environment=\"a,tenant=\\\"x\\\"\",tenant=\"b\"", "b")]
    [InlineData("environment=\"dev\",model=\"m\"", null)]
    [InlineData("", null)]
    [InlineData("xtenant=\"x\"", null)]
    public void ReadsTheTenantLabelFromCanonicalLabels(string labels, string? tenant)
    {
        Assert.Equal(tenant, SamplePart.LabelValue(labels, "tenant"));
    }
}
