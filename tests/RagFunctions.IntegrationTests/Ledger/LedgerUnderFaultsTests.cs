using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// The ledger's five invariants, one fact each, over one shared run under every fault (<see cref="LedgerUnderFaultsRun"/>),
/// so a broken invariant fails on its own and hides none of the others.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerUnderFaultsTests(LedgerUnderFaultsRun run, ITestOutputHelper output) : SharedRunFacts<LedgerUnderFaultsRun>(run, output), IClassFixture<LedgerUnderFaultsRun>
{
    [Fact]
    public void LedgerSeriesEqualTheTruthExactly()
    {
        Assert.Empty(SeriesComparison.Mismatches(Run.TruthTotals, Run.Latest));
        Assert.Equal(Run.TruthTotals.Count, Run.Latest.Count);
        Assert.InRange(Math.Abs(Run.LedgerCostTotal - Run.TruthCost) / Run.TruthCost, 0, 1e-9);
    }

    [Fact]
    public void EveryLedgerSeriesIsFirstScrapedAtZeroAndStaysThereForTwoScrapeIntervals()
    {
        Assert.Equal(Run.TruthTotals.Count, Run.Raw.Count);
        foreach (var (labels, samples) in Run.Raw)
        {
            Assert.True(samples[0].Value == 0, $"{Name(labels)} first sample is {samples[0].Value}");
            var firstIncrement = samples.FirstOrDefault(s => s.Value != 0);
            if (firstIncrement != default)
            {
                var held = firstIncrement.Time - samples[0].Time;
                Assert.True(held >= 2 * PrometheusServer.ScrapeIntervalSeconds,
                    $"{Name(labels)} left 0 after {held} s: {string.Join(" ", samples.Take(8).Select(p => $"{p.Time - Run.TestStart:F1}={p.Value}"))}");
            }
        }
    }

    [Fact]
    public void NoLedgerSeriesEverResets()
    {
        Assert.Empty(Run.NamesPrometheusSawReset);
        Assert.All(Run.Raw, series => Assert.True(series.Samples.Zip(series.Samples.Skip(1)).All(p => p.Second.Value >= p.First.Value), Name(series.Labels)));
    }

    [Fact]
    public void NoGroupIsLeftOnThePushgateway() =>
        Assert.Empty(Run.GroupsLeft);

    /// <summary>Idempotence: the double start, replayed final pushes and re-pushed retired groups are part of every run; this checks the crashes happened.</summary>
    [Fact]
    public void EveryStepOfTheCrashPlanCrashedALedgerReplica() =>
        Assert.Equal(LedgerUnderFaultsRun.CrashPlan.ToHashSet(), Run.Crashes.ToHashSet());

    private static string Name(IReadOnlyDictionary<string, string> labels) => SeriesTruth.Key(labels["__name__"], labels);
}
