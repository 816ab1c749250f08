using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// What a holder of the push password can do to the totals, one consequence per fact, over one shared run
/// (<see cref="LedgerForgeryRun"/>): forging the ledger's job changes nothing Prometheus stores; deleting a live pod group
/// and pushing an absurd value are counted.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerForgeryTests(LedgerForgeryRun run, ITestOutputHelper output) : SharedRunFacts<LedgerForgeryRun>(run, output), IClassFixture<LedgerForgeryRun>
{
    [Fact]
    public void ForgedLedgerPushesNeverReachWhatPrometheusStores()
    {
        var only = Assert.Single(Run.StoredDuringForgery);
        Assert.Equal("rag-ledger", only.Labels["instance"]);
        Assert.InRange(only.Samples.Count, 5, 1000);
        Assert.All(only.Samples, s => Assert.Equal(LedgerForgeryRun.PodASpend, s.Value));
    }

    [Fact]
    public void ForgedLedgerPushesLeaveTheTotalsUnchanged() =>
        Assert.Equal(LedgerForgeryRun.PodASpend, Run.TotalAfterForgery);

    [Fact]
    public void ForgedLedgerPushesAreCountedAsForeignGroups() =>
        Assert.InRange(Run.ForeignGroupsCounted, 1, Run.ForgedPushes);

    [Fact]
    public void ForgedLedgerGroupIsDeletedFromThePushgateway() =>
        Assert.True(Run.ForgedGroupDeleted, "a group under job=rag-ledger was still on the Pushgateway 10 s after the rogue stopped");

    [Fact]
    public void LivePodGroupDeletedBeforeRetirementIsCountedOnce()
    {
        Assert.Equal(1, Run.VanishedGroupsCounted);
        Assert.Equal(1, Run.VanishedGroupsAtEnd);
    }

    [Fact]
    public void ImplausibleCostIncreaseIsCountedAndStaysInTheTotals()
    {
        Assert.Equal(1, Run.ImplausibleCostDeltas);
        Assert.Equal(LedgerForgeryRun.PodASpend + LedgerForgeryRun.PodBSpend + LedgerForgeryRun.AbsurdSpend, Run.TotalAfterImplausible);
    }

    [Fact]
    public void ImplausibleCostIncreaseIsNotCountedAgainstTokens() =>
        Assert.Equal(0, Run.ImplausibleTokenDeltas);
}
