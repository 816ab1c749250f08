using System.Collections.Frozen;
using RagFunctions.Core.Generation;

namespace RagFunctions.Core.Pricing;

/// <summary>USD per one million tokens of each type.</summary>
public sealed record ModelPrice(decimal InputPerMillion, decimal OutputPerMillion, decimal CacheReadPerMillion, decimal CacheWritePerMillion)
{
    private const decimal Million = 1_000_000m;

    /// <summary>cost = in·p_in + cacheRead·p_cr + cacheWrite·p_cw + out·p_out, exact in decimal.</summary>
    public decimal CostOf(in TokenUsage usage) =>
        ((usage.Input * InputPerMillion) + (usage.CacheRead * CacheReadPerMillion)
         + (usage.CacheWrite * CacheWritePerMillion) + (usage.Output * OutputPerMillion)) / Million;
}

/// <summary>On-demand prices shipped with the app, overridable per model by configuration.</summary>
public sealed class PriceTable
{
    /// <summary>
    /// Bedrock on-demand list prices (us-east-1). Nova bills cache writes at no extra charge;
    /// Claude bills them at 1.25× input. Check the AWS pricing page and override in config when they change.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, ModelPrice> Shipped = new Dictionary<string, ModelPrice>(StringComparer.Ordinal)
    {
        ["amazon.nova-micro-v1:0"] = new(0.035m, 0.14m, 0.00875m, 0m),
        ["amazon.nova-lite-v1:0"] = new(0.06m, 0.24m, 0.015m, 0m),
        ["amazon.nova-pro-v1:0"] = new(0.80m, 3.20m, 0.20m, 0m),
        ["anthropic.claude-3-5-haiku-20241022-v1:0"] = new(0.80m, 4.00m, 0.08m, 1.00m),
        ["anthropic.claude-3-5-sonnet-20240620-v1:0"] = new(3.00m, 15.00m, 0.30m, 3.75m),
        ["anthropic.claude-3-5-sonnet-20241022-v2:0"] = new(3.00m, 15.00m, 0.30m, 3.75m),
        [LocalModels.Extractive] = new(0m, 0m, 0m, 0m),
    };

    // Cross-region inference profiles ("us.amazon.nova-lite-v1:0") bill like the base model.
    private static readonly string[] GeoPrefixes = ["us.", "eu.", "apac.", "us-gov.", "global."];

    private readonly FrozenDictionary<string, ModelPrice> _prices;

    public PriceTable(IEnumerable<KeyValuePair<string, ModelPrice>>? overrides = null)
    {
        var prices = new Dictionary<string, ModelPrice>(Shipped, StringComparer.Ordinal);
        foreach (var (model, price) in overrides ?? [])
        {
            prices[model] = price;
        }

        _prices = prices.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public bool TryGetPrice(string modelId, out ModelPrice price)
    {
        if (_prices.TryGetValue(modelId, out price!))
        {
            return true;
        }

        foreach (var prefix in GeoPrefixes)
        {
            if (modelId.StartsWith(prefix, StringComparison.Ordinal) && _prices.TryGetValue(modelId[prefix.Length..], out price!))
            {
                return true;
            }
        }

        return false;
    }
}

public static class LocalModels
{
    /// <summary>The offline extractive answerer's model id; price 0.</summary>
    public const string Extractive = "local-extractive";
}
