using System.Globalization;
using System.Net.Http.Headers;
using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// What a holder of the push password can do to the totals, on the real Pushgateway, ledger, Azurite and Prometheus
/// (scraping the ledger as job rag-ledger, with the scrape configs the project ships): forging the ledger's job changes
/// nothing Prometheus stores, deleting a live pod group and pushing an absurd value are counted.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerForgeryTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string LedgerSum = "sum(rag_cost_dollars_total{job=\"rag-ledger\"})";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task ForgedLedgerGroupsLeaveTheTotalsUnchangedAndVanishedGroupsAndImplausibleIncreasesAreCounted()
    {
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var ledgerPort = FreePort.Next();
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port, [ledgerPort]);
        var settings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "forgery" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 0.5, staleAfter: 600, hold: 2, lease: 3);
        settings["ReplicaId"] = "forgery";
        using var ledger = LedgerProcess.Start(settings, metricsPort: ledgerPort);

        // A pod's spend reaches the totals.
        await PutAsync(pushgateway, "/metrics/job/rag-functions/instance/pod-a", Cost(0.25));
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, LedgerSum) == 0.25, TimeSpan.FromSeconds(30), "pod-a's spend in the totals", () => ledger.Output);

        // 1. A rogue client pushes under job="rag-ledger" again and again: 0 spend, then an absurd one, as fast as it can.
        var rogueStart = Now();
        var forged = 0;
        while (Now() - rogueStart < 8)
        {
            await PutAsync(pushgateway, "/metrics/job/rag-ledger", Cost(forged % 2 == 0 ? 0 : 1e6));
            forged++;
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromSeconds(2 * PrometheusServer.ScrapeIntervalSeconds));
        var window = $"{(int)Math.Ceiling(Now() - rogueStart)}s";
        // Every sample Prometheus stored under job="rag-ledger" during the attack: one series, always the ledger's total.
        var stored = await prometheus.RawSamplesAsync($"rag_cost_dollars_total{{job=\"rag-ledger\"}}[{window}]");
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, "rag_ledger_foreign_groups_total{job=\"rag-ledger\"}") > 0, TimeSpan.FromSeconds(10), "foreign groups counted");
        await Poll.UntilAsync(async () => (await pushgateway.GroupsAsync()).All(g => g.Labels["job"] != "rag-ledger"), TimeSpan.FromSeconds(10), "forged group deleted");
        var foreignCounted = await ValueAsync(prometheus, "rag_ledger_foreign_groups_total{job=\"rag-ledger\"}");
        output.WriteLine($"rogue pushed {forged} times in 8 s; the ledger counted {foreignCounted} foreign pushes; " +
            $"Prometheus stored {stored.Count} series, values {string.Join(" ", stored.SelectMany(s => s.Samples).Select(s => s.Value.ToString("R", CultureInfo.InvariantCulture)).Distinct())}");
        var only = Assert.Single(stored);
        Assert.Equal("rag-ledger", only.Labels["instance"]);
        Assert.InRange(only.Samples.Count, 5, 1000);
        Assert.All(only.Samples, s => Assert.Equal(0.25, s.Value));
        Assert.Equal(0.25, await ValueAsync(prometheus, LedgerSum));
        Assert.InRange(foreignCounted, 1, forged);

        // 2. A live pod group deleted before the ledger retired it: counted once.
        await PutAsync(pushgateway, "/metrics/job/rag-functions/instance/pod-b", Cost(0.5));
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, LedgerSum) == 0.75, TimeSpan.FromSeconds(15), "pod-b's spend in the totals");
        using (var delete = await Http.DeleteAsync(new Uri(pushgateway.Url, "/metrics/job/rag-functions/instance/pod-b")))
        {
            delete.EnsureSuccessStatusCode();
        }

        await Poll.UntilAsync(async () => await ValueAsync(prometheus, "rag_ledger_groups_vanished_total{job=\"rag-ledger\"}") == 1, TimeSpan.FromSeconds(15), "vanished group counted");

        // 3. An implausible increase ($10^9 from one pod in one fold): counted, and still in the totals.
        await PutAsync(pushgateway, "/metrics/job/rag-functions/instance/pod-c", Cost(1e9));
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, "rag_ledger_implausible_deltas_total{job=\"rag-ledger\",metric=\"rag_cost_dollars_total\"}") == 1,
            TimeSpan.FromSeconds(15), "implausible increase counted");
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, LedgerSum) == 0.75 + 1e9, TimeSpan.FromSeconds(15), "implausible increase still in the totals");
        Assert.Equal(0, await ValueAsync(prometheus, "rag_ledger_implausible_deltas_total{job=\"rag-ledger\",metric=\"rag_token_usage_total\"}"));
        Assert.Equal(1, await ValueAsync(prometheus, "rag_ledger_groups_vanished_total{job=\"rag-ledger\"}"));
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static string Cost(double dollars) =>
        "# TYPE rag_cost_dollars_total counter\n" +
        $"rag_cost_dollars_total{{model=\"m\",environment=\"it\"}} {dollars.ToString("R", CultureInfo.InvariantCulture)}\n";

    private static async Task PutAsync(PushgatewayServer pushgateway, string path, string body)
    {
        using var content = new StringContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");
        using var response = await Http.PutAsync(new Uri(pushgateway.Url, path), content);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The single value of an instant query, NaN when it has no result.</summary>
    private static async Task<double> ValueAsync(PrometheusServer prometheus, string query) =>
        (await prometheus.QueryAsync(query)) is [var single] ? single.Value : double.NaN;
}
