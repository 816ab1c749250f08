using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Batches;
using RagFunctions.Core.Generation.Bedrock;
using RagFunctions.Core.Metrics;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.TestHost;

namespace RagFunctions.IntegrationTests.Functions;

/// <summary>The app on the Bedrock provider against a local stand-in that stays throttled or unavailable.</summary>
[Collection(AppHostCollection.Name)]
public sealed class ModelFailureTests(AppHostFixture app)
{
    private const string Model = "amazon.nova-lite-v1:0";

    private static CannedResponse Unavailable(int attempt) => new(503,
        """{"message":"Service unavailable"}""",
        new Dictionary<string, string> { ["x-amzn-ErrorType"] = "ServiceUnavailableException", ["Retry-After"] = "7" });

    private async Task<InProcessFunctionHost> BedrockHostAsync(BedrockStandIn standIn)
    {
        var settings = AppHostFixture.Settings(app.Azurite);
        standIn.Configure(settings, Model);
        return await InProcessFunctionHost.StartAsync(settings);
    }

    [Fact]
    public async Task ModelStillUnavailableAfterRetriesAnswers503WithRetryAfter()
    {
        await using var standIn = await BedrockStandIn.StartAsync(Unavailable);
        await using var host = await BedrockHostAsync(standIn);

        var response = await host.SendAsync("POST", "/api/query", """{"question":"What does HighCostSpike mean?"}""");

        Assert.Equal(503, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal("7", response.Headers["Retry-After"]);
        Assert.DoesNotContain("   at ", response.Body, StringComparison.Ordinal);
        Assert.Equal(2, standIn.Received.Count);
        Assert.All(standIn.Received, r => Assert.True(r.SignatureValid, r.SignatureProblem));
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        Assert.Equal(1, metrics.TotalErrorStage.Count);
        Assert.Equal(0, metrics.ForModel(Model, "default").Cost.Value);
    }

    [Fact]
    public async Task NoAwsCredentialsIs503NamingTheSettingsAndNeverAModelRejection()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson()));
        var settings = AppHostFixture.Settings(app.Azurite);
        standIn.Configure(settings, Model);
        // The default chain's answer when it finds nothing; the chain itself reads the process environment, which other tests share.
        await using var host = await InProcessFunctionHost.StartAsync(settings, overrides: services =>
            services.AddSingleton<IBedrockCredentialsSource>(new NoCredentialsSource()));

        var response = await host.SendAsync("POST", "/api/query", """{"question":"What does HighCostSpike mean?"}""");

        Assert.Equal(503, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal("Model credentials missing", problem.GetProperty("title").GetString());
        var detail = problem.GetProperty("detail").GetString()!;
        foreach (var setting in new[] { "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE" })
        {
            Assert.Contains(setting, detail, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("rejected", detail, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(standIn.Received);
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        Assert.Equal(0, await Faults.Exposition.ValueAsync(metrics, "rag_llm_errors_total"));
        Assert.Equal(1, await Faults.Exposition.ValueAsync(metrics, "rag_requests_total", "trigger=\"http\"", "outcome=\"unavailable\""));
    }

    private sealed class NoCredentialsSource : IBedrockCredentialsSource
    {
        public ValueTask<AwsSigningCredentials> GetCredentialsAsync(CancellationToken cancellationToken) =>
            throw DefaultChainCredentialsSource.NoCredentials(new InvalidOperationException("no credentials in this test"));
    }

    [Fact]
    public async Task AnsweredBedrockQueryIsPricedFromItsUsage()
    {
        await using var standIn = await BedrockStandIn.StartAsync(_ => new CannedResponse(200, BedrockStandIn.ConverseJson("Raise the budget.")));
        await using var host = await BedrockHostAsync(standIn);

        var response = await host.SendAsync("POST", "/api/query", """{"question":"daily budget exceeded"}""");

        Assert.Equal(200, response.Status);
        var body = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(Model, body.GetProperty("model").GetString());
        // Stand-in usage: 12 input, 5 output tokens; nova-lite $0.06 / $0.24 per 1M.
        Assert.Equal(0.00000192m, body.GetProperty("costUsd").GetDecimal());
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        Assert.Equal(0.00000192, metrics.ForModel(Model, "default").Cost.Value, 15);
    }

    [Fact]
    public async Task QuestionWhoseModelStaysUnavailableIsRetriedThenPoisonedAndRecordedAsFailed()
    {
        await using var standIn = await BedrockStandIn.StartAsync(Unavailable);
        await using var host = await BedrockHostAsync(standIn);
        var submitted = await host.SendAsync("POST", "/api/batches", """{"questions":["Why is the ledger stalled?"]}""");
        var batchId = JsonDocument.Parse(submitted.Body).RootElement.GetProperty("batchId").GetString()!;
        var settings = Prerequisites.HostQueueSettings with { VisibilityTimeout = TimeSpan.Zero };
        var pump = new QueuePump(host, app.Azurite.ConnectionString, settings);

        await pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

        Assert.Equal(1, pump.Poisoned);
        var status = JsonDocument.Parse((await host.SendAsync("GET", $"/api/batches/{batchId}")).Body).RootElement;
        Assert.Equal("done", status.GetProperty("status").GetString());
        Assert.Equal(1, status.GetProperty("failed").GetInt32());
        var row = await new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragresults")
            .GetEntityAsync<ResultEntity>(batchId, ResultEntity.RowKeyOf(0));
        Assert.Equal(ResultStatus.Failed, row.Value.Status);
        Assert.Contains("poison", row.Value.Error, StringComparison.Ordinal);
        // Every delivery really called the model: 5 deliveries × (1 try + 1 retry).
        Assert.Equal(settings.MaxDequeueCount * 2, standIn.Received.Count);
        var metrics = (RagMetrics)host.Services.GetService(typeof(RagMetrics))!;
        Assert.Equal(1, metrics.PoisonMessages.Value);
    }

    [Fact]
    public async Task PumpWaitsForAFailedMessageHiddenLongerThanTheQuietPeriodAndItIsAnsweredOnRedelivery()
    {
        // The first delivery's try and retry fail; the redelivery is answered.
        var calls = 0;
        await using var standIn = await BedrockStandIn.StartAsync(attempt =>
            Interlocked.Increment(ref calls) <= 2 ? Unavailable(attempt) : new CannedResponse(200, BedrockStandIn.ConverseJson("Check the lease.")));
        await using var host = await BedrockHostAsync(standIn);
        var submitted = await host.SendAsync("POST", "/api/batches", """{"questions":["Why is the ledger stalled?"]}""");
        var batchId = JsonDocument.Parse(submitted.Body).RootElement.GetProperty("batchId").GetString()!;
        // Hidden for longer than both the quiet period and the longest poll interval, so the queue is polled empty while
        // the message waits: those empty polls must not count as drained.
        var settings = Prerequisites.HostQueueSettings;
        settings = settings with { VisibilityTimeout = settings.MaxPollingInterval + TimeSpan.FromSeconds(1) };
        var pump = new QueuePump(host, app.Azurite.ConnectionString, settings);

        await pump.RunUntilIdleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(60));

        Assert.Equal((1, 1, 0), (pump.Failed, pump.Processed, pump.Poisoned));
        var row = await new TableServiceClient(app.Azurite.ConnectionString).GetTableClient("ragresults")
            .GetEntityAsync<ResultEntity>(batchId, ResultEntity.RowKeyOf(0));
        Assert.Equal(ResultStatus.Succeeded, row.Value.Status);
        Assert.Equal(2, row.Value.DequeueCount);
    }
}
