using RagFunctions.Ledger;

namespace RagFunctions.UnitTests.Ledger;

public sealed class LedgerFoldTests
{
    private const string Cost = "rag_cost_dollars_total";
    private const string Labels = "environment=\"dev\",model=\"m\"";
    private const double Stale = 300;
    private const double Retention = 3600;

    private static InstanceGroup Group(string instance, double pushTime, double cost, double? countOfHistogram = null)
    {
        var samples = new List<Sample> { new(Cost, Labels, SamplePart.Counter, cost) };
        var families = new Dictionary<string, FamilyInfo> { [Cost] = new("counter", "Cost.") };
        if (countOfHistogram is { } count)
        {
            families["rag_retrieved_documents"] = new("histogram", "Docs.");
            samples.Add(new("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Bucket(1), count));
            samples.Add(new("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Bucket(double.PositiveInfinity), count));
            samples.Add(new("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Sum, count * 0.5));
            samples.Add(new("rag_retrieved_documents", "environment=\"dev\"", SamplePart.Count, count));
        }

        return new InstanceGroup(instance, pushTime, families, samples);
    }

    private static double Total(LedgerState state) => state.Units[SamplePart.UnitKey(Cost, Labels)].Values[SamplePart.Counter];

    [Fact]
    public void AddsOnlyTheDeltaOverEachInstanceWatermark()
    {
        var state = new LedgerState();

        LedgerFold.Fold(state, [Group("a", 10, 0.5), Group("b", 10, 0.25)], 11, Stale, Retention);
        LedgerFold.Fold(state, [Group("a", 12, 0.75), Group("b", 12, 0.25)], 13, Stale, Retention);

        Assert.Equal(1.0, Total(state));
        Assert.Equal(0.75, state.Instances["a"].Values.Single().Value);
    }

    [Fact]
    public void ReplayingTheSameGroupsAddsNothing()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 11, Stale, Retention);

        var outcome = LedgerFold.Fold(state, [Group("a", 10, 0.5)], 12, Stale, Retention);
        LedgerFold.Fold(state, [Group("a", 14, 0.5)], 15, Stale, Retention);

        Assert.False(outcome.Changed);
        Assert.Equal(0.5, Total(state));
    }

    [Fact]
    public void IgnoresAGroupOlderThanWhatWasFolded()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 20, 0.9)], 21, Stale, Retention);

        // A Pushgateway restored from an older persistence snapshot shows the instance's earlier push.
        LedgerFold.Fold(state, [Group("a", 15, 0.4)], 22, Stale, Retention);
        LedgerFold.Fold(state, [Group("a", 25, 1.0)], 26, Stale, Retention);

        Assert.Equal(1.0, Total(state), 15);
        Assert.Equal(1, state.Counters.StaleReplaysIgnored);
    }

    [Fact]
    public void AddsNothingGivenAnOlderBodyAppliedAfterANewerOneWithANewerPushTime()
    {
        // After a hang the Pushgateway applies queued PUTs late and concurrently, stamping each on arrival: an older
        // body (lower values) can land after a newer one, with a newer push time.
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.9, countOfHistogram: 5)], 11, Stale, Retention);

        var older = LedgerFold.Fold(state, [Group("a", 20, 0.3, countOfHistogram: 2)], 21, Stale, Retention);
        var reread = LedgerFold.Fold(state, [Group("a", 20, 0.3, countOfHistogram: 2)], 22, Stale, Retention);

        Assert.True(older.Changed);
        Assert.False(reread.Changed);
        Assert.Equal(0.9, Total(state), 15);
        Assert.Equal(5, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Count]);
        Assert.Equal(1, state.Counters.StaleReplaysIgnored);
        Assert.Equal(0.9, state.Instances["a"].Values[Group("a", 0, 0).Samples[0].Id]);
        Assert.Equal(20, state.Instances["a"].PushTime);
    }

    [Fact]
    public void AddsOnlyTheIncreaseOverTheMaxGivenANewerBodyAfterAnOlderOne()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.9, countOfHistogram: 5)], 11, Stale, Retention);
        LedgerFold.Fold(state, [Group("a", 20, 0.3, countOfHistogram: 2)], 21, Stale, Retention);

        LedgerFold.Fold(state, [Group("a", 30, 1.25, countOfHistogram: 7)], 31, Stale, Retention);

        Assert.Equal(1.25, Total(state), 15);
        Assert.Equal(7, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Count]);
        Assert.Equal(1, state.Counters.StaleReplaysIgnored);
    }

    [Fact]
    public void CountsEachInstanceExactlyItsFinalValuesWhateverOrderItsBodiesArriveIn()
    {
        // Bodies 1..8 of one process (each a step up), applied in a shuffled order with increasing push times, one fold each.
        var state = new LedgerState();
        int[] order = [3, 1, 8, 2, 6, 4, 7, 5];
        for (var i = 0; i < order.Length; i++)
        {
            LedgerFold.Fold(state, [Group("a", 10 + i, order[i] * 0.125, countOfHistogram: order[i]), Group("b", 10 + i, i * 0.5)], 10.5 + i, Stale, Retention);
        }

        Assert.Equal(1.0 + 3.5, Total(state), 15);
        Assert.Equal(8, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Count]);
        Assert.Equal(4, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Sum]);
    }

    [Fact]
    public void CreatesASeriesAtZeroFromAnInstanceThatOnlyPushedZeros()
    {
        var state = new LedgerState();

        var outcome = LedgerFold.Fold(state, [Group("a", 10, 0, countOfHistogram: 0)], 11, Stale, Retention);

        Assert.True(outcome.Changed);
        Assert.Equal(0, Total(state));
        Assert.Equal(4, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values.Count);
        Assert.Empty(state.Instances["a"].Values);
    }

    [Fact]
    public void RetiresAStaleGroupAfterFoldingItsLastValues()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 11, Stale, Retention);

        var outcome = LedgerFold.Fold(state, [Group("a", 12, 0.8)], 12 + Stale, Stale, Retention);

        Assert.Equal(["a"], outcome.Retire);
        Assert.Equal(0.8, Total(state));
        Assert.False(state.Instances.ContainsKey("a"));
        Assert.Equal(12 + Stale, state.Tombstones["a"]);
        Assert.Equal(1, state.Counters.GroupsRetired);
    }

    [Fact]
    public void DropsAndDeletesAGroupOfARetiredInstanceWithoutCountingIt()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 10 + Stale, Stale, Retention);

        var outcome = LedgerFold.Fold(state, [Group("a", 10 + Stale, 0.7)], 11 + Stale, Stale, Retention);

        Assert.Equal(["a"], outcome.Retire);
        Assert.Equal(0.5, Total(state));
        Assert.Equal(1, state.Counters.TombstonedPushesDropped);
    }

    [Fact]
    public void StopsTrackingAVanishedInstanceOnceStaleAndForgetsTombstonesAfterRetention()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5)], 11, Stale, Retention);

        var vanished = LedgerFold.Fold(state, [], 10 + Stale, Stale, Retention);
        Assert.Empty(vanished.Retire);
        Assert.True(state.Tombstones.ContainsKey("a"));

        LedgerFold.Fold(state, [], 10 + Stale + Retention, Stale, Retention);
        Assert.Empty(state.Tombstones);
        Assert.Equal(0.5, Total(state));
    }

    [Fact]
    public void CountsANewInstanceInFullWhenItFollowsAKnownOneInTheSameFold()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5, countOfHistogram: 5)], 11, Stale, Retention);

        LedgerFold.Fold(state, [Group("a", 12, 0.75, countOfHistogram: 6), Group("b", 12, 0.25, countOfHistogram: 2)], 13, Stale, Retention);

        Assert.Equal(1.0, Total(state));
        Assert.Equal(8, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Count]);
        Assert.Equal(0, state.Counters.StaleReplaysIgnored);
    }

    [Fact]
    public void KeepsEachInstanceItsOwnWatermarksOverManyFolds()
    {
        var state = new LedgerState();
        for (var fold = 1; fold <= 4; fold++)
        {
            LedgerFold.Fold(state, [Group("a", fold, fold * 0.5, countOfHistogram: fold), Group("b", fold, fold * 0.25, countOfHistogram: 2 * fold)],
                fold + 0.5, Stale, Retention);
        }

        Assert.Equal(3.0, Total(state));
        Assert.Equal(12, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Count]);
        Assert.Equal(2.0, state.Instances["a"].Values[Group("a", 0, 0, 0).Samples[0].Id]);
        Assert.Equal(1.0, state.Instances["b"].Values[Group("b", 0, 0, 0).Samples[0].Id]);
        Assert.Equal(8, state.Instances["b"].Values[Group("b", 0, 0, 0).Samples[^1].Id]);
        Assert.Equal(5, state.Instances["a"].Values.Count);
    }

    [Fact]
    public void KeepsTheWatermarksOfSeriesAGroupNoLongerCarries()
    {
        var state = new LedgerState();
        LedgerFold.Fold(state, [Group("a", 10, 0.5, countOfHistogram: 5), Group("b", 10, 0.25, countOfHistogram: 2)], 11, Stale, Retention);

        // An older body without the histogram, then a newer one with it again: the histogram counts only its increase.
        LedgerFold.Fold(state, [Group("a", 12, 0.75), Group("b", 12, 0.5)], 13, Stale, Retention);
        LedgerFold.Fold(state, [Group("a", 14, 0.75, countOfHistogram: 6), Group("b", 14, 0.5, countOfHistogram: 2)], 15, Stale, Retention);

        Assert.Equal(5, state.Instances["a"].Values.Count);
        Assert.Equal(0.75, state.Instances["a"].Values[Group("a", 0, 0).Samples[0].Id]);
        Assert.Equal(1.25, Total(state));
        Assert.Equal(8, state.Units["rag_retrieved_documents{environment=\"dev\"}"].Values[SamplePart.Count]);
    }
}
