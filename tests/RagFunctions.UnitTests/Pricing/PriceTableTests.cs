using RagFunctions.Core.Generation;
using RagFunctions.Core.Pricing;

namespace RagFunctions.UnitTests.Pricing;

public sealed class PriceTableTests
{
    [Fact]
    public void CostAddsEveryTokenTypeAtItsOwnPriceExactly()
    {
        var price = new ModelPrice(InputPerMillion: 0.80m, OutputPerMillion: 4.00m, CacheReadPerMillion: 0.08m, CacheWritePerMillion: 1.00m);

        var cost = price.CostOf(new TokenUsage(Input: 1_234, Output: 567, CacheRead: 10_000, CacheWrite: 2_048));

        // 1234·0.80 + 10000·0.08 + 2048·1.00 + 567·4.00 = 987.2 + 800 + 2048 + 2268 = 6103.2 per million
        Assert.Equal(0.0061032m, cost);
    }

    [Fact]
    public void ShippedTableCoversTheNovaAndClaudeModels()
    {
        var table = new PriceTable();
        foreach (var model in new[]
                 {
                     "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0",
                     "anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic.claude-3-5-sonnet-20241022-v2:0", LocalModels.Extractive,
                 })
        {
            Assert.True(table.TryGetPrice(model, out _), model);
        }
    }

    [Fact]
    public void CrossRegionInferenceProfileBillsLikeItsBaseModel()
    {
        var table = new PriceTable();

        Assert.True(table.TryGetPrice("us.amazon.nova-lite-v1:0", out var profile));
        Assert.True(table.TryGetPrice("amazon.nova-lite-v1:0", out var baseModel));
        Assert.Equal(baseModel, profile);
    }

    [Fact]
    public void ConfiguredPriceOverridesTheShippedOne()
    {
        var options = new PricingOptions
        {
            Models = [new ModelPriceOverride { ModelId = "amazon.nova-lite-v1:0", InputPerMillion = 1m, OutputPerMillion = 2m }],
        };

        Assert.True(options.ToPriceTable().TryGetPrice("amazon.nova-lite-v1:0", out var price));
        Assert.Equal(1m, price.InputPerMillion);
        Assert.Equal(2m, price.OutputPerMillion);
    }

    [Fact]
    public void UnknownModelHasNoPrice() => Assert.False(new PriceTable().TryGetPrice("acme.unknown-v1:0", out _));

    [Fact]
    public void NegativeOrNamelessOverrideFailsValidationNamingTheSetting()
    {
        var options = new PricingOptions { Models = [new ModelPriceOverride { ModelId = "", InputPerMillion = -1m }] };

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.Contains("Rag:Pricing:Models:0:ModelId", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.Contains("negative", StringComparison.Ordinal));
    }
}
