using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RagFunctions.App.Http;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Metrics.Push;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;
using RagFunctions.TestHost;
using Xunit.Abstractions;

namespace RagFunctions.IntegrationTests.Budgets;

/// <summary>
/// Hard budgets enforced end to end: the app (in-process host, priced Bedrock stand-in) pushes to a real Pushgateway, the
/// ledger (its own composition, in-process, serving /metrics to a real Prometheus) folds into real Azurite's ragbudgets
/// table, and the app's gate reads it.
/// One <see cref="FakeTimeProvider"/> drives the app, its gate and the ledger, from 23:59:30 UTC across midnight; each
/// fake second is one push, one fold and one gate refresh, so the lag of the README's overshoot bound is 3 s.
/// </summary>
[Collection(LedgerRunsCollection.Name)]
public sealed class BudgetProofTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string Model = "amazon.nova-lite-v1:0";
    private const string Tenant = "acme";
    private const string Key = "acme-key";

    // Stand-in usage: 12 input, 5 output tokens at nova-lite's $0.06 / $0.24 per 1M: $0.00000192 a query, so the limit
    // is reached by the sixth query.
    private const decimal Limit = 0.00001m;
    private const int QueriesPerSecond = 3;
    private const int Questions = 4;

    // Push, fold and gate refresh: one fake second each.
    private static readonly TimeSpan Lag = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task HardLimitRefusesQueriesAndDefersQueuedQuestionsUntilTheResetThenEachIsAnsweredOnceAndSpendIsExact()
    {
        // Pushes carry the real time: the day starts 30 s before the next real UTC midnight, so none is stale.
        var midnight = BudgetWindow.Daily.ResetsAt(DateTimeOffset.UtcNow);
        var clock = new FakeTimeProvider(midnight.AddSeconds(-30));
        // Checked, a push is stored before its 202: the ledger cycles right after each push. (Unchecked, as shipped, a
        // 202 only queues the write.)
        await using var pushgateway = await PushgatewayServer.StartAsync(checkConsistency: true);
        // The app signs its model calls with the fake clock, so the stand-in checks their date against it.
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson("Raise the budget.")), clock);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var budgetTable = "budgets" + suffix;
        var budgets = new Dictionary<string, string?>
        {
            ["Rag:Tenants:0:KeyName"] = Key,
            ["Rag:Tenants:0:Name"] = Tenant,
            ["Rag:Tenants:0:Daily:Hard"] = Limit.ToString(CultureInfo.InvariantCulture),
            ["Rag:Budgets:Table"] = budgetTable,
            ["Rag:Environment"] = "test",
        };

        var ledgerSettings = LedgerSettings.For(pushgateway, azurite.ConnectionString, "ledgerenforce" + suffix, foldSeconds: 1, staleAfter: 3 * 86_400, hold: 0, lease: 600);
        ledgerSettings["TombstoneRetentionSeconds"] = (3 * 86_400).ToString(CultureInfo.InvariantCulture);
        using var ledger = InProcessLedger.Start(
            new Dictionary<string, string?>(ledgerSettings.Select(s => KeyValuePair.Create("Ledger:" + s.Key, (string?)s.Value)).Concat(budgets)), clock, "enforce");

        // A real Prometheus scrapes the Pushgateway and the ledger's /metrics, as deployed.
        await using var served = await ledger.ServeAsync();
        await using var prometheus = await PrometheusServer.StartAsync(pushgateway.Port, [new Uri(served.Urls.Single()).Port]);

        var settings = AppHostFixture.Settings(azurite);
        standIn.Configure(settings, Model);
        foreach (var (key, value) in budgets)
        {
            settings[key] = value;
        }

        // The in-process host stands where the trusted ingress would: it sets the tenant key header.
        settings["Rag:TrustTenantHeader"] = "true";
        settings["Rag:Budgets:RefreshSeconds"] = "1";
        settings["Rag:Push:Enabled"] = "true";
        settings["Rag:Push:Url"] = pushgateway.Url.ToString();
        await using var host = await InProcessFunctionHost.StartAsync(settings, overrides: services => services.AddSingleton<TimeProvider>(clock));
        var pusher = host.Services.GetRequiredService<MetricsPusher>();
        var metrics = host.Services.GetRequiredService<RagMetrics>();

        // A batch submitted while the tenant may still spend; it is delivered only once the tenant is blocked.
        var submitted = await PostAsync(host, "/api/batches", JsonSerializer.Serialize(new { questions = Enumerable.Range(0, Questions).Select(i => $"Question {i}: what does TenantBudgetEnforced mean?") }));
        Assert.Equal(202, submitted.Status);
        var batchId = JsonDocument.Parse(submitted.Body).RootElement.GetProperty("batchId").GetString()!;

        // (a) Spend at a steady rate, one push, fold and gate refresh per second, until the first refusal.
        var dayOne = new List<decimal>();
        var httpRejections = 0;
        DateTimeOffset? crossedAt = null, firstRejectionAt = null;
        decimal? spentAtFirstRejection = null;
        for (var second = 0; firstRejectionAt is null; second++)
        {
            Assert.True(second < 20, $"no query was refused within 20 s of spend: the ledger has {await SpentAsync(budgetTable, BudgetWindow.Daily, clock.GetUtcNow())}, " +
                $"the gate says {await host.Services.GetRequiredService<BudgetGate>().CheckAsync(Tenant, CancellationToken.None)}");

            for (var q = 0; q < QueriesPerSecond; q++)
            {
                var response = await PostAsync(host, "/api/query", """{"question":"What does TenantBudgetEnforced mean?"}""");
                if (response.Status == 200)
                {
                    dayOne.Add(JsonDocument.Parse(response.Body).RootElement.GetProperty("costUsd").GetDecimal());
                    crossedAt ??= dayOne.Sum() >= Limit ? clock.GetUtcNow() : null;
                    continue;
                }

                Assert.True(response.Status == 429, $"expected 200 or 429, got {response.Status}: {response.Body}");
                httpRejections++;
                firstRejectionAt ??= clock.GetUtcNow();
                spentAtFirstRejection ??= await SpentAsync(budgetTable, BudgetWindow.Daily, clock.GetUtcNow());
            }

            await PushAndFoldAsync(pusher, clock, ledger);
        }

        var queryCost = dayOne[0];
        var overshoot = spentAtFirstRejection!.Value - Limit;
        var lag = firstRejectionAt!.Value - crossedAt!.Value;
        var bound = ((decimal)Lag.TotalSeconds * QueriesPerSecond * queryCost) + queryCost;
        output.WriteLine($"limit {Limit}; spend at the first refusal {spentAtFirstRejection} (overshoot {overshoot} = {overshoot / queryCost:F2} queries); " +
            $"lag from crossing to first refusal {lag.TotalSeconds} s; bound lag {Lag.TotalSeconds} s × {QueriesPerSecond * queryCost}/s + in flight {queryCost} = {bound}");
        Assert.InRange(overshoot, 0m, bound);
        Assert.InRange(lag, TimeSpan.Zero, Lag);

        // Submissions are refused too, while the blocked tenant's batch waits in the queue.
        Assert.Equal(429, (await PostAsync(host, "/api/batches", """{"questions":["Is the budget back?"]}""")).Status);
        httpRejections++;

        // Queue deferral: 3 s before midnight, every question is held back until 00:00 (3 s of real queue time). The first
        // message is delivered twice, as when a pod dies after sending its copy and before the original is deleted.
        clock.SetUtcNow(midnight.AddSeconds(-3));
        await ledger.CycleAsync();
        var modelCallsBefore = standIn.Received.Count;
        var queue = new QueueClient(azurite.ConnectionString, StorageOptions.QueryQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var originals = new List<QueueMessage>();
        while (originals.Count < Questions)
        {
            originals.AddRange((await queue.ReceiveMessagesAsync(Questions - originals.Count, TimeSpan.FromMinutes(5))).Value);
        }

        foreach (var message in originals.Append(originals[0]))
        {
            await host.InvokeQueueAsync("ProcessQueryMessage", message);
        }

        foreach (var message in originals)
        {
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }

        var results = new TableServiceClient(azurite.ConnectionString).GetTableClient("ragresults");
        var deferrals = (await results.QueryAsync<DeferralEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {batchId} and RowKey gt {DeferralEntity.RowKeyPrefix}")).ToListAsync())
            .Where(d => d.RowKey.StartsWith(DeferralEntity.RowKeyPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(0, Questions), deferrals.Select(d => d.Index).Order());
        Assert.All(deferrals, d => Assert.Equal(midnight, d.DeferredUntil));
        Assert.Empty(await results.QueryAsync<ResultEntity>(ResultEntity.FilterOf(batchId)).ToListAsync());
        Assert.Equal(modelCallsBefore, standIn.Received.Count);
        Assert.Equal(Questions + 1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Equal(Questions, await Exposition.ValueAsync(metrics, "rag_budget_rejections_total", "trigger=\"queue\"", $"tenant=\"{Tenant}\""));
        Assert.Equal(0, await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", $"tenant=\"{Tenant}\""));
        var status = JsonDocument.Parse((await host.SendAsync("GET", $"/api/batches/{batchId}")).Body).RootElement;
        Assert.Equal(0, status.GetProperty("completed").GetInt32());

        // (d) The ledger's day-one spend is the exact decimal sum of the answers' costs.
        Assert.Equal(dayOne.Sum(), await SpentAsync(budgetTable, BudgetWindow.Daily, clock.GetUtcNow()));

        // (b) After midnight the tenant is served again, and the copies, visible again, are answered.
        clock.SetUtcNow(midnight.AddSeconds(1));
        await ledger.CycleAsync();
        var afterReset = await PostAsync(host, "/api/query", """{"question":"Is the budget back?"}""");
        Assert.Equal(200, afterReset.Status);
        var dayTwo = new List<decimal> { JsonDocument.Parse(afterReset.Body).RootElement.GetProperty("costUsd").GetDecimal() };

        var pump = new QueuePump(host, azurite.ConnectionString, Prerequisites.HostQueueSettings with { MaxPollingInterval = TimeSpan.FromMilliseconds(200) });
        using (var stop = new CancellationTokenSource())
        {
            var running = pump.RunAsync(stop.Token);
            // Time goes on while the pump runs: a duplicate waiting for its twin's claim polls on the app's clock.
            await Poll.UntilAsync(
                async () =>
                {
                    clock.Advance(TimeSpan.FromMilliseconds(250));
                    return (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0
                        && await results.QueryAsync<ResultEntity>(ResultEntity.FilterOf(batchId)).CountAsync() == Questions;
                },
                TimeSpan.FromSeconds(30), "every deferred question answered and the queue empty");
            await stop.CancelAsync();
            await running;
        }

        // (c) Nothing lost, nothing answered twice: one row and one model call per question, none poisoned, each counted once.
        var rows = await results.QueryAsync<ResultEntity>(ResultEntity.FilterOf(batchId)).ToListAsync();
        Assert.Equal(Enumerable.Range(0, Questions), rows.Select(r => r.Index).Order());
        Assert.All(rows, r => Assert.Equal(ResultStatus.Succeeded, r.Status));
        Assert.Equal(modelCallsBefore + 1 + Questions, standIn.Received.Count);
        Assert.Equal(0, pump.Poisoned);
        Assert.Equal(Questions, await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", "outcome=\"success\"", $"tenant=\"{Tenant}\""));
        Assert.Equal(Questions, await Exposition.ValueAsync(metrics, "rag_budget_rejections_total", "trigger=\"queue\"", $"tenant=\"{Tenant}\""));
        Assert.Equal(httpRejections, await Exposition.ValueAsync(metrics, "rag_budget_rejections_total", "trigger=\"http\"", $"tenant=\"{Tenant}\""));
        Assert.Equal(httpRejections, await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"budget_exhausted\"", $"tenant=\"{Tenant}\""));

        // (d) The new day's spend is exact too, and the month holds both days (unless midnight also began a month).
        dayTwo.AddRange(rows.Select(r => decimal.Parse(r.CostUsd, CultureInfo.InvariantCulture)));
        await PushAndFoldAsync(pusher, clock, ledger);
        Assert.Equal(dayTwo.Sum(), await SpentAsync(budgetTable, BudgetWindow.Daily, clock.GetUtcNow()));
        var sameMonth = BudgetWindow.Monthly.Start(midnight) == BudgetWindow.Monthly.Start(midnight.AddSeconds(-1));
        Assert.Equal((sameMonth ? dayOne.Sum() : 0m) + dayTwo.Sum(), await SpentAsync(budgetTable, BudgetWindow.Monthly, clock.GetUtcNow()));
        // What an operator sees: the ledger's totals, scraped by Prometheus, count each refusal and deferral once.
        await prometheus.UntilScrapedAsync("rag-ledger");
        Assert.Equal(Questions, await ScrapedAsync(prometheus, "rag_budget_rejections_total", "trigger=\"queue\""));
        Assert.Equal(httpRejections, await ScrapedAsync(prometheus, "rag_budget_rejections_total", "trigger=\"http\""));
        Assert.Equal(Questions, await ScrapedAsync(prometheus, "rag_requests_total", "trigger=\"queue\",outcome=\"success\""));
        Assert.Equal((double)dayTwo.Sum(), await ScrapedAsync(prometheus, "rag_budget_spent_dollars", "window=\"daily\""), 15);
        output.WriteLine($"day one {dayOne.Count} answers ${dayOne.Sum()}, {httpRejections} HTTP refusals; day two {dayTwo.Count} answers ${dayTwo.Sum()}; " +
            $"{Questions} questions deferred once each and answered once after the reset");
    }

    /// <summary>The sum of the tenant's series of <paramref name="metric"/> (with <paramref name="labels"/>) that Prometheus scraped from the ledger.</summary>
    private static async Task<double> ScrapedAsync(PrometheusServer prometheus, string metric, string labels) =>
        (await prometheus.QueryAsync($"sum({metric}{{job=\"rag-ledger\",tenant=\"{Tenant}\",{labels}}})")).Single().Value;

    private static Task<HttpCallResult> PostAsync(InProcessFunctionHost host, string path, string body) =>
        host.SendAsync("POST", path, Encoding.UTF8.GetBytes(body), "application/json", new Dictionary<string, string> { [RequestTenant.KeyHeader] = Key });

    /// <summary>One second of the pipeline behind the gate: the app pushes, the clock moves on, the ledger folds.</summary>
    private static async Task PushAndFoldAsync(MetricsPusher pusher, FakeTimeProvider clock, InProcessLedger ledger)
    {
        Assert.True(await pusher.PushAsync(CancellationToken.None), "the push failed");
        clock.Advance(TimeSpan.FromSeconds(1));
        await ledger.CycleAsync();
    }

    /// <summary>The tenant's spend in <paramref name="window"/> at <paramref name="now"/>, as the ledger wrote it (0 without a row).</summary>
    private async Task<decimal> SpentAsync(string budgetTable, BudgetWindow window, DateTimeOffset now)
    {
        var row = await new TableClient(azurite.ConnectionString, budgetTable).GetEntityIfExistsAsync<TableEntity>(window.LabelValue(), Tenant);
        return row.HasValue && BudgetRow.FromEntity(row.Value!) is { } budget ? budget.SpentAt(now) : 0m;
    }
}
