using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using RagFunctions.App.Http;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Metrics;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>The tenant header resolved at the edge, through the real in-process host over Azurite, priced by the Bedrock stand-in.</summary>
[Collection(AppHostCollection.Name)]
public sealed class TenantAttributionTests(AppHostFixture app)
{
    private const string Model = "amazon.nova-lite-v1:0";

    // Stand-in usage: 12 input, 5 output tokens; nova-lite $0.06 / $0.24 per 1M.
    private const double QueryCost = 0.00000192;

    private static Task<BedrockStandIn> PricedModelAsync() =>
        BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson("Raise the budget.")));

    /// <summary>
    /// The app on the priced stand-in with one allow-listed tenant: key name <c>acme-key</c> → tenant <c>acme</c>; the
    /// header is trusted (as behind an ingress that overwrites it) unless <paramref name="trustHeader"/> is false.
    /// </summary>
    private async Task<InProcessFunctionHost> HostAsync(BedrockStandIn standIn, bool trustHeader = true)
    {
        var settings = AppHostFixture.Settings(app.Azurite);
        standIn.Configure(settings, Model);
        if (trustHeader)
        {
            settings["Rag:TrustTenantHeader"] = "true";
        }

        settings["Rag:Tenants:0:KeyName"] = "acme-key";
        settings["Rag:Tenants:0:Name"] = "acme";
        return await InProcessFunctionHost.StartAsync(settings);
    }

    private static Task<HttpCallResult> PostAsync(InProcessFunctionHost host, string path, string body, string? key) =>
        host.SendAsync("POST", path, Encoding.UTF8.GetBytes(body), "application/json",
            key is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [RequestTenant.KeyHeader] = key });

    private static RagMetrics MetricsOf(InProcessFunctionHost host) => (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;

    [Fact]
    public async Task AKnownKeyHeaderPutsTheQueryCostTokensAndRequestOnItsTenant()
    {
        await using var standIn = await PricedModelAsync();
        await using var host = await HostAsync(standIn);

        var response = await PostAsync(host, "/api/query", """{"question":"daily budget exceeded"}""", "acme-key");

        Assert.Equal(200, response.Status);
        var metrics = MetricsOf(host);
        Assert.Equal(QueryCost, await Faults.Exposition.ValueAsync(metrics, "rag_cost_dollars_total", "tenant=\"acme\""), 15);
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_cost_dollars_total", "tenant=\"default\""));
        Assert.Equal(12, await Faults.Exposition.ValueAsync(metrics, "rag_token_usage_total", "type=\"input\"", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "outcome=\"success\"", "tenant=\"acme\""));
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "tenant=\"default\""));
    }

    [Fact]
    public async Task AnUnknownOrAbsentKeyCountsForDefaultAndNeverBecomesALabelValue()
    {
        await using var standIn = await PricedModelAsync();
        await using var host = await HostAsync(standIn);

        Assert.Equal(200, (await PostAsync(host, "/api/query", """{"question":"daily budget exceeded"}""", "someone-elses-key")).Status);
        Assert.Equal(200, (await PostAsync(host, "/api/query", """{"question":"daily budget exceeded"}""", key: null)).Status);

        var metrics = MetricsOf(host);
        Assert.Equal(2 * QueryCost, await Faults.Exposition.ValueAsync(metrics, "rag_cost_dollars_total", "tenant=\"default\""), 15);
        Assert.Equal(2, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "outcome=\"success\"", "tenant=\"default\""));
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "tenant=\"acme\""));
        Assert.DoesNotContain((await Faults.Exposition.ReadAsync(metrics)).Keys, series => series.Contains("someone-elses-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUntrustedHeaderIsIgnoredByDefault()
    {
        await using var standIn = await PricedModelAsync();
        await using var host = await HostAsync(standIn, trustHeader: false);

        Assert.Equal(200, (await PostAsync(host, "/api/query", """{"question":"daily budget exceeded"}""", "acme-key")).Status);

        var metrics = MetricsOf(host);
        Assert.Equal(QueryCost, await Faults.Exposition.ValueAsync(metrics, "rag_cost_dollars_total", "tenant=\"default\""), 15);
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "outcome=\"success\"", "tenant=\"default\""));
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "tenant=\"acme\""));
    }

    [Fact]
    public async Task ABatchQuestionIsAnsweredAndPricedForTheTenantThatSubmittedIt()
    {
        await using var standIn = await PricedModelAsync();
        await using var host = await HostAsync(standIn);
        var submitted = await PostAsync(host, "/api/batches", """{"questions":["Why is the ledger stalled?","What is a budget?"]}""", "acme-key");
        Assert.Equal(202, submitted.Status);
        var batchId = JsonDocument.Parse(submitted.Body).RootElement.GetProperty("batchId").GetString()!;
        var row = await new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragbatches")
            .GetEntityAsync<BatchEntity>(batchId, BatchEntity.Row);
        Assert.Equal("acme", row.Value.Tenant);

        var pump = new QueuePump(host, app.Azurite.ConnectionString, Prerequisites.HostQueueSettings);
        await pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

        var status = JsonDocument.Parse((await host.SendAsync("GET", $"/api/batches/{batchId}")).Body).RootElement;
        Assert.Equal("done", status.GetProperty("status").GetString());
        var metrics = MetricsOf(host);
        Assert.Equal(2 * QueryCost, await Faults.Exposition.ValueAsync(metrics, "rag_cost_dollars_total", "tenant=\"acme\""), 15);
        Assert.Equal(2, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"queue\"", "outcome=\"success\"", "tenant=\"acme\""));
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_cost_dollars_total", "tenant=\"default\""));
    }
}
