using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Azure.Data.Tables;
using Microsoft.Extensions.Time.Testing;
using RagFunctions.Core.Budgets;
using RagFunctions.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>
/// The ledger's spend per tenant (real Pushgateway and Azurite, the ledger's own composition with an injected clock):
/// pods of two allow-listed tenants, an unknown tenant and an untagged pod push cost; the ledger's daily and monthly spend
/// per tenant, on /metrics (labelled with Rag:Environment) and in the ragbudgets table, equals the exact decimal sum of what they pushed; UTC midnight
/// resets the day and keeps the month; a second replica that takes over continues the same exact figures.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class LedgerBudgetTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task SpendPerTenantIsExactAndTheDayResetsAtUtcMidnight()
    {
        // Checked, a push is stored before its 202: the ledger cycles right after each push. (Unchecked, as shipped, a
        // 202 only queues the write.)
        await using var pushgateway = await PushgatewayServer.StartAsync(checkConsistency: true);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var budgetTable = "budgets" + suffix;
        // The clock starts a minute before the next real UTC midnight, so pushes (stamped with the real time) are never stale.
        var realNow = DateTimeOffset.UtcNow;
        var clock = new FakeTimeProvider(BudgetWindow.Daily.ResetsAt(realNow).AddMinutes(-1));
        var settings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "ledgerbudgets" + suffix, foldSeconds: 1, staleAfter: 3 * 86_400, hold: 0, lease: 30);
        settings["TombstoneRetentionSeconds"] = (3 * 86_400).ToString(CultureInfo.InvariantCulture);
        var configuration = new Dictionary<string, string?>(settings.Select(s => KeyValuePair.Create("Ledger:" + s.Key, (string?)s.Value)))
        {
            ["Rag:Tenants:0:KeyName"] = "acme-key",
            ["Rag:Tenants:0:Name"] = "acme",
            ["Rag:Tenants:0:Daily:Soft"] = "0.01",
            ["Rag:Tenants:0:Daily:Hard"] = "0.02",
            ["Rag:Tenants:1:KeyName"] = "globex-key",
            ["Rag:Tenants:1:Name"] = "globex",
            ["Rag:Budgets:Monthly:Hard"] = "100",
            ["Rag:Budgets:Table"] = budgetTable,
            // The pods' own setting: the budget gauges carry the environment label of the series the ledger folds.
            ["Rag:Environment"] = "it",
        };

        var random = new Random(11);
        Pod[] pods = [new("acme-1", "acme"), new("acme-2", "acme"), new("globex-1", "globex"), new("intruder-1", "intruder"), new("untagged-1", null)];
        var tenantOf = new Dictionary<string, string> { ["acme"] = "acme", ["globex"] = "globex", ["intruder"] = "default", [""] = "default" };

        using (var first = InProcessLedger.Start(configuration, clock, "replica-a"))
        {
            // Before midnight: pushes and folds interleaved, so increases are split over several folds.
            for (var round = 0; round < 6; round++)
            {
                foreach (var pod in pods)
                {
                    pod.Spend(random);
                    await pod.PushAsync(pushgateway.Url);
                }

                clock.Advance(TimeSpan.FromSeconds(1));
                await first.CycleAsync();
            }

            var dayOne = Truth(pods, tenantOf, sinceMark: false);
            foreach (var pod in pods)
            {
                pod.Mark();
            }

            await AssertSpendAsync(first, budgetTable, clock.GetUtcNow(), daily: dayOne, monthly: dayOne, "before midnight");

            // 00:00:05 UTC: nothing new pushed, the day starts at 0, the month goes on.
            clock.Advance(TimeSpan.FromSeconds(59));
            await first.CycleAsync();
            await AssertSpendAsync(first, budgetTable, clock.GetUtcNow(), daily: [], monthly: dayOne, "right after midnight");

            for (var round = 0; round < 3; round++)
            {
                foreach (var pod in pods.Where((_, i) => i != round))
                {
                    pod.Spend(random);
                    await pod.PushAsync(pushgateway.Url);
                }

                clock.Advance(TimeSpan.FromSeconds(1));
                await first.CycleAsync();
            }

            await AssertSpendAsync(first, budgetTable, clock.GetUtcNow(), daily: Truth(pods, tenantOf, sinceMark: true), monthly: Truth(pods, tenantOf, sinceMark: false), "after midnight");
        }

        // Handover: another replica, once the first one's lease ran out, continues from the committed state.
        clock.Advance(TimeSpan.FromSeconds(31));
        using var second = InProcessLedger.Start(configuration, clock, "replica-b");
        foreach (var pod in pods)
        {
            pod.Spend(random);
            await pod.PushAsync(pushgateway.Url);
        }

        await second.CycleAsync();
        var daily = Truth(pods, tenantOf, sinceMark: true);
        var monthly = Truth(pods, tenantOf, sinceMark: false);
        await AssertSpendAsync(second, budgetTable, clock.GetUtcNow(), daily, monthly, "after the handover");
        output.WriteLine($"day one ended at {clock.GetUtcNow():u}; monthly spend per tenant: {string.Join(", ", monthly.Select(t => $"{t.Key} {t.Value}"))}; daily: {string.Join(", ", daily.Select(t => $"{t.Key} {t.Value}"))}");
    }

    /// <summary>Exact USD per tenant: over every pod, the exact decimal of its last pushed value (minus the one at the mark).</summary>
    private static Dictionary<string, decimal> Truth(IEnumerable<Pod> pods, IReadOnlyDictionary<string, string> tenantOf, bool sinceMark)
    {
        var truth = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            var tenant = tenantOf[pod.Tenant ?? string.Empty];
            truth[tenant] = truth.GetValueOrDefault(tenant) + Decimal(pod.Pushed) - (sinceMark ? Decimal(pod.Marked) : 0m);
        }

        return truth;
    }

    private static decimal Decimal(double value) => decimal.Parse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture);

    private async Task AssertSpendAsync(InProcessLedger ledger, string budgetTable, DateTimeOffset now, Dictionary<string, decimal> daily, Dictionary<string, decimal> monthly, string when)
    {
        string[] tenants = ["acme", "default", "globex"];
        var exposition = await ledger.ScrapeAsync();
        var served = exposition.Split('\n').Where(l => l.StartsWith("rag_budget_spent_dollars{", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => decimal.Parse(l[(l.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var rows = new List<BudgetRow>();
        await foreach (var entity in new TableClient(azurite.ConnectionString, budgetTable).QueryAsync<TableEntity>())
        {
            rows.Add(BudgetRow.FromEntity(entity) ?? throw new InvalidOperationException($"unreadable budget row {entity.PartitionKey}/{entity.RowKey}"));
        }

        output.WriteLine($"{when}: {string.Join(", ", rows.OrderBy(r => r.Window).ThenBy(r => r.Tenant, StringComparer.Ordinal).Select(r => $"{r.Window}/{r.Tenant} {r.Spent}"))}");
        Assert.Equal(2 * (tenants.Length + 1), rows.Count);
        foreach (var (window, truth) in new[] { (BudgetWindow.Daily, daily), (BudgetWindow.Monthly, monthly) })
        {
            var label = window.LabelValue();
            foreach (var tenant in tenants.Append(BudgetOptions.AllTenants))
            {
                var expected = tenant == BudgetOptions.AllTenants ? truth.Values.Sum() : truth.GetValueOrDefault(tenant);
                var row = rows.Single(r => r.Window == window && r.Tenant == tenant);
                Assert.True(expected == row.Spent, $"{when}: ragbudgets {label}/{tenant} spent {row.Spent}, truth {expected}");
                Assert.Equal(window.Start(now), row.WindowStart);
                Assert.Equal(window.ResetsAt(now), row.ResetsAt);
                Assert.True(served.TryGetValue($"rag_budget_spent_dollars{{environment=\"it\",tenant=\"{tenant}\",window=\"{label}\"}}", out var metric), $"{when}: no {label} series of {tenant}");
                Assert.True(expected == metric, $"{when}: /metrics {label}/{tenant} {metric}, truth {expected}");
            }
        }

        Assert.Contains("rag_budget_limit_dollars{environment=\"it\",kind=\"hard\",tenant=\"acme\",window=\"daily\"} 0.02\n", exposition, StringComparison.Ordinal);
        Assert.Contains("rag_budget_limit_dollars{environment=\"it\",kind=\"hard\",tenant=\"_all\",window=\"monthly\"} 100\n", exposition, StringComparison.Ordinal);
        // A tenant label outside the allow-list counts for default and gets no budget series of its own.
        Assert.DoesNotContain(exposition.Split('\n'), l => l.StartsWith("rag_budget_", StringComparison.Ordinal) && l.Contains("tenant=\"intruder\"", StringComparison.Ordinal));
    }

    /// <summary>One pod of one tenant label (null: no tenant label), with the real prometheus-net registry.</summary>
    private sealed class Pod
    {
        private readonly Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
        private readonly Prometheus.Counter.Child _cost;
        private readonly string _instance;

        public Pod(string name, string? tenant)
        {
            Tenant = tenant;
            _instance = $"{name}-{Guid.NewGuid().ToString("N")[..8]}";
            var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
            _cost = tenant is null
                ? factory.CreateCounter("rag_cost_dollars_total", "Cost.", new Prometheus.CounterConfiguration { LabelNames = ["model", "environment"] }).WithLabels("m", "it")
                : factory.CreateCounter("rag_cost_dollars_total", "Cost.", new Prometheus.CounterConfiguration { LabelNames = ["model", "environment", "tenant"] }).WithLabels("m", "it", tenant);
        }

        public string? Tenant { get; }

        /// <summary>The value of its last accepted push.</summary>
        public double Pushed { get; private set; }

        public double Marked { get; private set; }

        public void Spend(Random random) => _cost.Inc(random.NextDouble() / 300);

        public void Mark() => Marked = Pushed;

        public async Task PushAsync(Uri pushgateway)
        {
            var value = _cost.Value;
            using var body = new MemoryStream();
            await _registry.CollectAndExportAsTextAsync(body);
            using var content = new ByteArrayContent(body.ToArray());
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; version=0.0.4");
            using var response = await Http.PutAsync(new Uri(pushgateway, $"/metrics/job/rag-functions/instance/{_instance}"), content);
            response.EnsureSuccessStatusCode();
            Pushed = value;
        }
    }
}
