using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RagFunctions.App.Http;
using RagFunctions.App.Middleware;
using RagFunctions.Core.Budgets;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Options;
using RagFunctions.IntegrationTests.Budgets;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>
/// Hard budgets enforced at the HTTP edge, through the in-process host over Azurite: the ledger's rows (written as it
/// writes them) block a tenant with a 429 until the window resets, counted once; on a fake clock.
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class BudgetEnforcementTests(AppHostFixture app)
{
    // 10:00 UTC: the day resets in 14 h = 50,400 s.
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NextDay = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);
    private const string Question = """{"question":"What do I do when the daily budget alert fires?"}""";

    private readonly FakeTimeProvider _clock = new(Start);

    /// <summary>The app trusting the tenant header, with tenant acme (key <c>acme-key</c>, daily hard $1) and its own budgets table.</summary>
    private async Task<InProcessFunctionHost> HostAsync(BudgetTable table)
    {
        var settings = AppHostFixture.Settings(app.Azurite);
        settings["Rag:TrustTenantHeader"] = "true";
        settings["Rag:Tenants:0:KeyName"] = "acme-key";
        settings["Rag:Tenants:0:Name"] = "acme";
        settings["Rag:Tenants:0:Daily:Hard"] = "1";
        settings["Rag:Budgets:Table"] = table.Name;
        return await InProcessFunctionHost.StartAsync(settings, overrides: services => services.AddSingleton<TimeProvider>(_clock));
    }

    private static Task<HttpCallResult> PostAsync(InProcessFunctionHost host, string path, string body, string? key = "acme-key") =>
        host.SendAsync("POST", path, Encoding.UTF8.GetBytes(body), "application/json",
            key is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [RequestTenant.KeyHeader] = key });

    private static RagMetrics MetricsOf(InProcessFunctionHost host) => host.Services.GetRequiredService<RagMetrics>();

    private async Task<BudgetTable> ExhaustedAsync()
    {
        var table = new BudgetTable(app.Azurite.ConnectionString);
        await table.WriteAsync("acme", BudgetWindow.Daily, 1.25m, Start);
        return table;
    }

    [Fact]
    public async Task AQueryOfATenantPastItsHardLimitGets429UntilTheResetAndCountsOnce()
    {
        await using var host = await HostAsync(await ExhaustedAsync());

        var response = await PostAsync(host, "/api/query", Question);

        Assert.Equal(429, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal("50400", response.Headers["Retry-After"]);
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(ProblemDetailsMiddleware.BudgetExhaustedType, problem.GetProperty("type").GetString());
        Assert.Equal("Budget exhausted", problem.GetProperty("title").GetString());
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Equal("acme", problem.GetProperty("tenant").GetString());
        Assert.Equal("daily", problem.GetProperty("window").GetString());
        Assert.Equal("acme", problem.GetProperty("budget").GetString());
        Assert.Equal("2026-12-06T00:00:00Z", problem.GetProperty("resetsAt").GetString());
        Assert.Contains("'acme'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("2026-12-06T00:00:00Z", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var metrics = MetricsOf(host);
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"budget_exhausted\"", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_budget_rejections_total", "trigger=\"http\"", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_budget_rejections_total"));

        // Another tenant (here: default, no header) is not held by acme's budget.
        Assert.Equal(200, (await PostAsync(host, "/api/query", Question, key: null)).Status);

        // The ledger has not rewritten the row since midnight; the window it counts for has ended.
        _clock.SetUtcNow(NextDay);
        Assert.Equal(200, (await PostAsync(host, "/api/query", Question)).Status);
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "outcome=\"success\"", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_budget_rejections_total"));
    }

    [Fact]
    public async Task InvalidInputIsA400WhateverTheBudget()
    {
        await using var host = await HostAsync(await ExhaustedAsync());

        var response = await PostAsync(host, "/api/query", """{"question":""}""");

        Assert.Equal(400, response.Status);
        var metrics = MetricsOf(host);
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "outcome=\"invalid\"", "tenant=\"acme\""));
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_budget_rejections_total"));
    }

    [Fact]
    public async Task ABatchOfATenantPastItsHardLimitGets429AndNothingIsStoredOrEnqueued()
    {
        await using var host = await HostAsync(await ExhaustedAsync());
        var before = await StoredAsync();

        var response = await PostAsync(host, "/api/batches", """{"questions":["Why is the ledger stalled?","What is a budget?"]}""");

        Assert.Equal(429, response.Status);
        Assert.Equal("50400", response.Headers["Retry-After"]);
        Assert.Equal("acme", JsonDocument.Parse(response.Body).RootElement.GetProperty("tenant").GetString());
        Assert.Equal(before, await StoredAsync());
        var metrics = MetricsOf(host);
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"budget_exhausted\"", "tenant=\"acme\""));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_budget_rejections_total", "trigger=\"http\"", "tenant=\"acme\""));

        _clock.SetUtcNow(NextDay);
        Assert.Equal(202, (await PostAsync(host, "/api/batches", """{"questions":["What is a budget?"]}""")).Status);
    }

    /// <summary>Rows in the batch table and messages in the query queue (0 for either not created yet).</summary>
    private async Task<(int Rows, int Messages)> StoredAsync()
    {
        var connection = app.Azurite.ConnectionString;
        var rows = 0;
        try
        {
            await foreach (var _ in new TableClient(connection, new StorageOptions().BatchTable).QueryAsync<TableEntity>(select: ["PartitionKey"]))
            {
                rows++;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }

        var queue = new QueueClient(connection, StorageOptions.QueryQueue);
        var messages = await queue.ExistsAsync() ? (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
        return (rows, messages);
    }
}
