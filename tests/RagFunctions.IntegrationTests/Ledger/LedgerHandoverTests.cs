using System.Globalization;
using System.Net.Http.Headers;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// Two real ledger replicas on one state table (Azurite) and one Pushgateway: the standby's /metrics serves no series
/// while the lease holder serves the totals, and once the holder is SIGKILLed the standby serves the same totals.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerHandoverTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task OnlyTheLeaseHolderServesSeriesAndTheStandbyTakesOverWithTheSameTotals()
    {
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var settings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "handover" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 0.5, staleAfter: 600, hold: 0, lease: 3);
        using (var http = new HttpClient())
        using (var body = new StringContent("# TYPE rag_cost_dollars_total counter\nrag_cost_dollars_total{model=\"m\",environment=\"it\"} 0.125\n"))
        {
            body.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");
            (await http.PutAsync(new Uri(pushgateway.Url, "/metrics/job/rag-functions/instance/pod-a"), body)).EnsureSuccessStatusCode();
        }

        using var holder = LedgerProcess.Start(new Dictionary<string, string>(settings) { ["ReplicaId"] = "holder" });
        await holder.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(async () => LedgerCheck.Total(await LedgerCheck.LedgerTotalsAsync(holder), "rag_cost_dollars_total") == 0.125,
            TimeSpan.FromSeconds(30), "the holder serves the totals", () => holder.Output);
        using var standby = LedgerProcess.Start(new Dictionary<string, string>(settings) { ["ReplicaId"] = "standby" });
        await standby.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        await Poll.UntilAsync(() => Task.FromResult(standby.Output.Contains("is standby", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the second replica stands by", () => standby.Output);

        var standbyBodies = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            standbyBodies.Add(await standby.ScrapeAsync());
            await Task.Delay(500);
        }

        var served = await LedgerCheck.LedgerTotalsAsync(holder);
        holder.Kill();
        await Poll.UntilAsync(async () => (await LedgerCheck.LedgerTotalsAsync(standby)).Count > 0, TimeSpan.FromSeconds(20), "the standby takes over and serves", () => standby.Output);
        var takenOver = await LedgerCheck.LedgerTotalsAsync(standby);
        output.WriteLine($"holder served {served.Count} series; standby served {standbyBodies.Sum(b => b.Length)} bytes in {standbyBodies.Count} scrapes, " +
            $"then {takenOver.Count} series, cost {LedgerCheck.Total(takenOver, "rag_cost_dollars_total").ToString("R", CultureInfo.InvariantCulture)}");

        Assert.All(standbyBodies, body => Assert.Equal(string.Empty, body));
        Assert.Empty(SeriesComparison.Mismatches(served, takenOver));
    }
}
