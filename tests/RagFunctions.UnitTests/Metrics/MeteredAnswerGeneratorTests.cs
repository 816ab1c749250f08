using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using RagFunctions.Core.Generation;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pricing;
using RagFunctions.Tests.Shared;

namespace RagFunctions.UnitTests.Metrics;

public sealed class MeteredAnswerGeneratorTests
{
    private const string Model = "anthropic.claude-3-5-haiku-20241022-v1:0";

    [Fact]
    public async Task MetersTokensByTypeAndCostOfOneCall()
    {
        var metrics = new RagMetrics("test", [Model], ["default"]);
        var client = Metered(new FakeModel(null, "answer", input: 1_000, output: 200, cacheRead: 3_000, cacheWrite: 500), Model, metrics);

        var priced = await client.GenerateAsync("hi", [], "default", CancellationToken.None);

        var meters = metrics.ForModel(Model, "default");
        Assert.Equal(1_000, meters.InputTokens.Value);
        Assert.Equal(200, meters.OutputTokens.Value);
        Assert.Equal(3_000, meters.CacheReadTokens.Value);
        Assert.Equal(500, meters.CacheWriteTokens.Value);
        // (1000·0.80 + 3000·0.08 + 500·1.00 + 200·4.00) / 1e6 = 2340 / 1e6
        Assert.Equal(0.00234m, priced.CostUsd);
        Assert.Equal(0.00234, meters.Cost.Value, 15);
        Assert.Equal(1, meters.QueryCost.Count);
        Assert.Equal(1, metrics.GenerationStage.Count);
    }

    [Fact]
    public async Task ModelWithoutPriceCountsUnpricedTokensInsteadOfZeroDollars()
    {
        var metrics = new RagMetrics("test", ["acme.mystery-v1:0"], ["default"]);
        var client = Metered(new FakeModel(null, "answer", input: 70, output: 30), "acme.mystery-v1:0", metrics);

        var priced = await client.GenerateAsync("hi", [], "default", CancellationToken.None);

        var meters = metrics.ForModel("acme.mystery-v1:0", "default");
        Assert.Equal(100, meters.UnpricedTokens.Value);
        Assert.Equal(0, meters.Cost.Value);
        Assert.Equal(0, meters.QueryCost.Count);
        Assert.Equal(70, meters.InputTokens.Value);
        Assert.Equal(0m, priced.CostUsd);
    }

    [Fact]
    public async Task FailedCallIsCountedByKindAndRethrownAsModelCallFailed()
    {
        var metrics = new RagMetrics("test", [Model], ["default"]);
        var client = Metered(FakeModel.Failing(new HttpRequestException("connection refused")), Model, metrics);

        var error = await Assert.ThrowsAsync<ModelCallFailedException>(() => client.GenerateAsync("hi", [], "default", CancellationToken.None));

        Assert.Equal(LlmErrorKind.Network, error.Kind);
        Assert.True(error.IsTransient);
        Assert.Equal(0, metrics.ForModel(Model, "default").Cost.Value);
        var text = System.Text.Encoding.UTF8.GetString(await ExportAsync(metrics));
        Assert.Contains($"rag_llm_errors_total{{model=\"{Model}\",error_type=\"network\",environment=\"test\"}} 1", text, StringComparison.Ordinal);
    }

    private static async Task<byte[]> ExportAsync(RagMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return stream.ToArray();
    }

    // The fake reports no model id of its own: the configured one is the label.
    private static MeteredAnswerGenerator Metered(IChatClient inner, string model, RagMetrics metrics) =>
        new(new ChatClientAnswerGenerator(inner, model), metrics, new PriceTable(), NullLogger<MeteredAnswerGenerator>.Instance);
}
