using RagFunctions.Ledger;

namespace RagFunctions.UnitTests.Ledger;

/// <summary>What the fold cannot prevent it counts: vanished groups and implausible increases.</summary>
public sealed class LedgerDetectionTests
{
    private const string Cost = PlausibilityBounds.CostFamily;
    private const string Labels = "environment=\"dev\",model=\"m\"";
    private const double Stale = 300;
    private const double Retention = 3600;
    private static readonly Dictionary<string, double> Bounds = new(StringComparer.Ordinal) { [Cost] = 10 };

    private static InstanceGroup Group(string instance, double pushTime, double cost) =>
        new(instance, pushTime, new Dictionary<string, FamilyInfo> { [Cost] = new("counter", "Cost.") },
            [new Sample(Cost, Labels, SamplePart.Counter, cost), new Sample(Cost, "environment=\"dev\",model=\"n\"", SamplePart.Counter, cost)]);

    private static double Total(LedgerState state) => state.Units.Values.Sum(u => u.Values[SamplePart.Counter]);

    [Fact]
    public void CountsAGroupThatVanishedBeforeItWentStaleOnce()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5), Group("b", 10, 0.5)], 11, Stale, Retention);

        var first = LedgerFold.Fold(state, [Group("b", 15, 0.5)], 16, Stale, Retention);
        LedgerFold.Fold(state, [Group("b", 20, 0.5)], 21, Stale, Retention);

        Assert.True(first.Changed);
        Assert.Equal(1, state.Counters.GroupsVanished);
        Assert.Contains("a", state.Instances.Keys);
    }

    [Fact]
    public void CountsAGroupThatVanishesAgainAfterComingBack()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 11, Stale, Retention);
        LedgerFold.Fold(state, [], 12, Stale, Retention);

        LedgerFold.Fold(state, [Group("a", 15, 0.75)], 16, Stale, Retention);
        LedgerFold.Fold(state, [], 17, Stale, Retention);

        Assert.Equal(2, state.Counters.GroupsVanished);
        Assert.Equal(1.5, Total(state));
    }

    [Fact]
    public void DoesNotCountAGroupRetiredAsStale()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 11, Stale, Retention);
        var retire = LedgerFold.Fold(state, [Group("a", 10, 0.5)], 10 + Stale, Stale, Retention);

        LedgerFold.Fold(state, [], 11 + Stale, Stale, Retention);

        Assert.Equal(["a"], retire.Retire);
        Assert.Equal(0, state.Counters.GroupsVanished);
    }

    [Fact]
    public void DoesNotCountAGroupFirstMissingAfterItWentStale()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 11, Stale, Retention);

        LedgerFold.Fold(state, [], 10 + Stale, Stale, Retention);

        Assert.Equal(0, state.Counters.GroupsVanished);
        Assert.Contains("a", state.Tombstones.Keys);
    }

    [Fact]
    public void CountsAnIncreaseAboveTheBoundOverAllSeriesOfTheFamilyAndStillFoldsIt()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 4)], 11, Stale, Retention, Bounds);
        Assert.Empty(state.Counters.ImplausibleDeltas);

        // Each series rises by 3: 6 in this fold, under the bound of 10. Then each by 6: 12, over it.
        LedgerFold.Fold(state, [Group("a", 15, 7)], 16, Stale, Retention, Bounds);
        LedgerFold.Fold(state, [Group("a", 20, 13)], 21, Stale, Retention, Bounds);

        Assert.Equal(1, state.Counters.ImplausibleDeltas[Cost]);
        Assert.Equal(26, Total(state));
    }

    [Fact]
    public void CountsEachInstanceWithAnImplausibleIncreaseSeparately()
    {
        var state = new LedgerState();

        LedgerFold.Fold(state, [Group("a", 10, 1e9), Group("b", 10, 1e9), Group("c", 10, 1)], 11, Stale, Retention, Bounds);

        Assert.Equal(2, state.Counters.ImplausibleDeltas[Cost]);
    }

    [Fact]
    public void DefaultBoundsFollowFromPricesMaxTokensAndConcurrency()
    {
        var bounds = PlausibilityBounds.Defaults();

        // 24 slots × 5 queries × (200,000 input tokens at $3.75/M + 512 output tokens at $15/M) = 120 × $0.75768.
        Assert.Equal(90.9216, bounds[PlausibilityBounds.CostFamily], 6);
        Assert.Equal(120 * 200_512, bounds[PlausibilityBounds.TokenFamily]);
    }

    [Fact]
    public void ExposesTheDetectionCountersWithEveryBoundedFamilyFromZero()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 1e9)], 11, Stale, Retention, Bounds);
        LedgerFold.Fold(state, [], 12, Stale, Retention, Bounds);

        var (text, _) = LedgerExposition.Render(state, 13, 0, new LedgerSelfMetrics(13, 0, [Cost, PlausibilityBounds.TokenFamily]));

        Assert.Contains("\nrag_ledger_groups_vanished_total 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nrag_ledger_implausible_deltas_total{metric=\"rag_cost_dollars_total\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nrag_ledger_implausible_deltas_total{metric=\"rag_token_usage_total\"} 0\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void CountsEachPushUnderTheLedgersJobOnceAndForgetsItOnceDeleted()
    {
        var state = new LedgerState();
        var forged = new ForeignGroup(string.Empty, new Dictionary<string, string>(), 100);

        Assert.True(LedgerFold.CountForeign(state, [forged]));
        Assert.False(LedgerFold.CountForeign(state, [forged]));
        LedgerFold.CountForeign(state, [forged with { PushTime = 101 }]);
        LedgerFold.CountForeign(state, []);
        LedgerFold.CountForeign(state, [forged with { PushTime = 101 }]);

        Assert.Equal(3, state.Counters.ForeignGroups);
        Assert.Single(state.Counters.ForeignSeen);
    }
}
