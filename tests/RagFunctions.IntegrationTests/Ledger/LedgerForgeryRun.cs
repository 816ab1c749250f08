using System.Globalization;
using System.Net.Http.Headers;
using RagFunctions.IntegrationTests.Infrastructure;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// One run of what a holder of the push password can do to the totals, shared by the facts of
/// <see cref="LedgerForgeryTests"/>: on the real Pushgateway, ledger, Azurite and Prometheus (scraping the ledger as job
/// rag-ledger, with the scrape configs the project ships) a rogue client forges the ledger's job, deletes a live pod
/// group and pushes an absurd value. The run records what Prometheus and the ledger made of each.
/// </summary>
public sealed class LedgerForgeryRun : IAsyncLifetime
{
    public const double PodASpend = 0.25;
    public const double PodBSpend = 0.5;
    public const double AbsurdSpend = 1e9;
    private const string LedgerSum = "sum(rag_cost_dollars_total{job=\"rag-ledger\"})";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly AzuriteFixture _azurite = new();

    public List<string> Log { get; } = [];

    public int ForgedPushes { get; private set; }

    /// <summary>Every sample Prometheus stored under job="rag-ledger" during the forgery.</summary>
    public IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(double Time, double Value)> Samples)> StoredDuringForgery { get; private set; } = [];

    public double TotalAfterForgery { get; private set; } = double.NaN;

    public double ForeignGroupsCounted { get; private set; } = double.NaN;

    public bool ForgedGroupDeleted { get; private set; }

    public double VanishedGroupsCounted { get; private set; } = double.NaN;

    public double ImplausibleCostDeltas { get; private set; } = double.NaN;

    public double ImplausibleTokenDeltas { get; private set; } = double.NaN;

    public double TotalAfterImplausible { get; private set; } = double.NaN;

    public double VanishedGroupsAtEnd { get; private set; } = double.NaN;

    public async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        await using var pushgateway = await PushgatewayServer.StartAsync();
        var ledgerPort = FreePort.Next();
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port, [ledgerPort]);
        var settings = LedgerSettings.For(pushgateway, _azurite.ConnectionString, "forgery" + Guid.NewGuid().ToString("N")[..8], foldSeconds: 0.5, staleAfter: 600, hold: 2, lease: 3);
        settings["ReplicaId"] = "forgery";
        using var ledger = LedgerProcess.Start(settings, metricsPort: ledgerPort);

        // A pod's spend reaches the totals: the run cannot go on without it.
        await PutAsync(pushgateway, "/metrics/job/rag-functions/instance/pod-a", Cost(PodASpend));
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, LedgerSum) == PodASpend, TimeSpan.FromSeconds(30), "pod-a's spend in the totals", () => ledger.Output);

        // 1. A rogue client pushes under job="rag-ledger" again and again: 0 spend, then an absurd one, as fast as it can.
        var rogueStart = UnixTime.Now();
        var forged = 0;
        while (UnixTime.Now() - rogueStart < 8)
        {
            await PutAsync(pushgateway, "/metrics/job/rag-ledger", Cost(forged % 2 == 0 ? 0 : 1e6));
            forged++;
            await Task.Delay(100);
        }

        ForgedPushes = forged;
        await prometheus.UntilScrapedAsync("pushgateway");
        await prometheus.UntilScrapedAsync("rag-ledger");
        var window = $"{(int)Math.Ceiling(UnixTime.Now() - rogueStart)}s";
        StoredDuringForgery = await prometheus.RawSamplesAsync($"rag_cost_dollars_total{{job=\"rag-ledger\"}}[{window}]");
        await Poll.TryUntilAsync(async () => await ValueAsync(prometheus, "rag_ledger_foreign_groups_total{job=\"rag-ledger\"}") > 0, TimeSpan.FromSeconds(10));
        ForgedGroupDeleted = await Poll.TryUntilAsync(async () => (await pushgateway.GroupsAsync()).All(g => g.Labels["job"] != "rag-ledger"), TimeSpan.FromSeconds(10));
        ForeignGroupsCounted = await ValueAsync(prometheus, "rag_ledger_foreign_groups_total{job=\"rag-ledger\"}");
        TotalAfterForgery = await ValueAsync(prometheus, LedgerSum);
        Log.Add($"rogue pushed {forged} times in 8 s; the ledger counted {ForeignGroupsCounted} foreign pushes; " +
            $"Prometheus stored {StoredDuringForgery.Count} series, values {string.Join(" ", StoredDuringForgery.SelectMany(s => s.Samples).Select(s => s.Value.ToString("R", CultureInfo.InvariantCulture)).Distinct())}");

        // 2. A live pod group deleted before the ledger retired it: counted once.
        await PutAsync(pushgateway, "/metrics/job/rag-functions/instance/pod-b", Cost(PodBSpend));
        await Poll.UntilAsync(async () => await ValueAsync(prometheus, LedgerSum) == PodASpend + PodBSpend, TimeSpan.FromSeconds(15), "pod-b's spend in the totals", () => ledger.Output);
        using (var delete = await Http.DeleteAsync(new Uri(pushgateway.Url, "/metrics/job/rag-functions/instance/pod-b")))
        {
            delete.EnsureSuccessStatusCode();
        }

        await Poll.TryUntilAsync(async () => await ValueAsync(prometheus, "rag_ledger_groups_vanished_total{job=\"rag-ledger\"}") >= 1, TimeSpan.FromSeconds(15));
        VanishedGroupsCounted = await ValueAsync(prometheus, "rag_ledger_groups_vanished_total{job=\"rag-ledger\"}");

        // 3. An implausible increase ($10^9 from one pod in one fold): counted, and still in the totals.
        await PutAsync(pushgateway, "/metrics/job/rag-functions/instance/pod-c", Cost(AbsurdSpend));
        const string ImplausibleCost = "rag_ledger_implausible_deltas_total{job=\"rag-ledger\",metric=\"rag_cost_dollars_total\"}";
        await Poll.TryUntilAsync(async () => await ValueAsync(prometheus, ImplausibleCost) >= 1, TimeSpan.FromSeconds(15));
        await Poll.TryUntilAsync(async () => await ValueAsync(prometheus, LedgerSum) >= PodASpend + PodBSpend + AbsurdSpend, TimeSpan.FromSeconds(15));
        await prometheus.UntilScrapedAsync("rag-ledger");
        ImplausibleCostDeltas = await ValueAsync(prometheus, ImplausibleCost);
        TotalAfterImplausible = await ValueAsync(prometheus, LedgerSum);
        ImplausibleTokenDeltas = await ValueAsync(prometheus, "rag_ledger_implausible_deltas_total{job=\"rag-ledger\",metric=\"rag_token_usage_total\"}");
        VanishedGroupsAtEnd = await ValueAsync(prometheus, "rag_ledger_groups_vanished_total{job=\"rag-ledger\"}");
    }

    public Task DisposeAsync() => _azurite.DisposeAsync();

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
