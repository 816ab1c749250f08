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
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Faults;
using RagFunctions.IntegrationTests.Functions;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Budgets;

/// <summary>A queued question of a tenant whose monthly budget is exhausted weeks before its reset, on real Azurite.</summary>
[Collection(AppHostCollection.Name)]
public sealed class QueueDeferralTests(AppHostFixture app)
{
    // The 2nd of a month: its monthly reset is 4 weeks away, past the 7 days a queue message can be hidden.
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task AQuestionWhoseResetIsWeeksAwayIsHiddenWithinTheQueueLimitNeverExpiresAndCountsOnce()
    {
        var clock = new FakeTimeProvider(Start);
        var table = new BudgetTable(app.Azurite.ConnectionString);
        var settings = AppHostFixture.Settings(app.Azurite);
        settings["Rag:TrustTenantHeader"] = "true";
        settings["Rag:Tenants:0:KeyName"] = "acme-key";
        settings["Rag:Tenants:0:Name"] = "acme";
        settings["Rag:Tenants:0:Monthly:Hard"] = "1";
        settings["Rag:Budgets:Table"] = table.Name;
        await using var host = await InProcessFunctionHost.StartAsync(settings, overrides: services => services.AddSingleton<TimeProvider>(clock));
        var submitted = await host.SendAsync("POST", "/api/batches", Encoding.UTF8.GetBytes("""{"questions":["What does TenantBudgetEnforced mean?"]}"""),
            "application/json", new Dictionary<string, string> { [RequestTenant.KeyHeader] = "acme-key" });
        Assert.Equal(202, submitted.Status);
        var batchId = JsonDocument.Parse(submitted.Body).RootElement.GetProperty("batchId").GetString()!;

        // Then the ledger reports the month spent; the gate reads it after its refresh interval.
        await table.WriteAsync("acme", BudgetWindow.Monthly, 1.5m, Start);
        clock.Advance(TimeSpan.FromMinutes(1));
        var queue = new QueueClient(app.Azurite.ConnectionString, StorageOptions.QueryQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        QueueMessage original = (await queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(5))).Value.Single();
        Assert.Equal(batchId, BatchMessage.Parse(original.Body.ToMemory()).BatchId);
        var countBefore = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

        // Delivered twice (the first delivery's pod died before the original was deleted): two copies, one rejection.
        await host.InvokeQueueAsync("ProcessQueryMessage", original);
        await host.InvokeQueueAsync("ProcessQueryMessage", original);
        await queue.DeleteMessageAsync(original.MessageId, original.PopReceipt);

        // The queue took a visibility timeout of 7 days less a minute with a time-to-live of -1 (it refuses more than
        // 7 days): both copies are stored, and hidden.
        Assert.Equal(countBefore + 1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.DoesNotContain((await queue.PeekMessagesAsync(32)).Value, m => BatchMessage.Parse(m.Body.ToMemory()).BatchId == batchId);
        var results = new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragresults");
        var marker = Assert.Single(
            await results.QueryAsync<DeferralEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {batchId} and RowKey gt {DeferralEntity.RowKeyPrefix}")).ToListAsync());
        Assert.Equal(DeferralEntity.RowKeyOf(0), marker.RowKey);
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), marker.DeferredUntil);
        Assert.Empty(await results.QueryAsync<ResultEntity>(ResultEntity.FilterOf(batchId)).ToListAsync());
        var metrics = host.Services.GetRequiredService<RagMetrics>();
        Assert.Equal(1, await Exposition.ValueAsync(metrics, "rag_budget_rejections_total", "trigger=\"queue\"", "tenant=\"acme\""));
        Assert.Equal(0, await Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", "tenant=\"acme\""));
    }
}
