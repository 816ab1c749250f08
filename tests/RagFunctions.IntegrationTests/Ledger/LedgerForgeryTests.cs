using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// What a holder of the push password can do to the totals, one consequence per fact, over one shared run
/// (<see cref="LedgerForgeryRun"/>): forging the ledger's job changes nothing Prometheus stores; deleting a live pod group
/// and pushing an absurd value are counted.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerForgeryTests : IClassFixture<LedgerForgeryRun>
{
    private readonly LedgerForgeryRun _run;

    public LedgerForgeryTests(LedgerForgeryRun run, ITestOutputHelper output)
    {
        _run = run;
        foreach (var line in run.Log)
        {
            output.WriteLine(line);
        }
    }

    [Fact]
    public void ForgedLedgerPushesNeverReachWhatPrometheusStores()
    {
        var only = Assert.Single(_run.StoredDuringForgery);
        Assert.Equal("rag-ledger", only.Labels["instance"]);
        Assert.InRange(only.Samples.Count, 5, 1000);
        Assert.All(only.Samples, s => Assert.Equal(LedgerForgeryRun.PodASpend, s.Value));
    }

    [Fact]
    public void ForgedLedgerPushesLeaveTheTotalsUnchanged() =>
        Assert.Equal(LedgerForgeryRun.PodASpend, _run.TotalAfterForgery);

    [Fact]
    public void ForgedLedgerPushesAreCountedAsForeignGroups() =>
        Assert.InRange(_run.ForeignGroupsCounted, 1, _run.ForgedPushes);

    [Fact]
    public void ForgedLedgerGroupIsDeletedFromThePushgateway() =>
        Assert.True(_run.ForgedGroupDeleted, "a group under job=rag-ledger was still on the Pushgateway 10 s after the rogue stopped");

    [Fact]
    public void LivePodGroupDeletedBeforeRetirementIsCountedOnce()
    {
        Assert.Equal(1, _run.VanishedGroupsCounted);
        Assert.Equal(1, _run.VanishedGroupsAtEnd);
    }

    [Fact]
    public void ImplausibleCostIncreaseIsCountedAndStaysInTheTotals()
    {
        Assert.Equal(1, _run.ImplausibleCostDeltas);
        Assert.Equal(LedgerForgeryRun.PodASpend + LedgerForgeryRun.PodBSpend + LedgerForgeryRun.AbsurdSpend, _run.TotalAfterImplausible);
    }

    [Fact]
    public void ImplausibleCostIncreaseIsNotCountedAgainstTokens() =>
        Assert.Equal(0, _run.ImplausibleTokenDeltas);
}
