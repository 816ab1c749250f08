using System.ComponentModel.DataAnnotations;

namespace RagFunctions.Core.Pricing;

/// <summary>
/// Price overrides (section <c>Rag:Pricing</c>). A list, not a map, because model ids contain ':' —
/// the configuration key separator.
/// </summary>
public sealed class PricingOptions : IValidatableObject
{
    public const string Section = "Rag:Pricing";

    public List<ModelPriceOverride> Models { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Models.Count; i++)
        {
            var m = Models[i];
            if (string.IsNullOrWhiteSpace(m.ModelId))
            {
                yield return new ValidationResult($"Rag:Pricing:Models:{i}:ModelId is required.");
            }

            if (m.InputPerMillion < 0 || m.OutputPerMillion < 0 || m.CacheReadPerMillion < 0 || m.CacheWritePerMillion < 0)
            {
                yield return new ValidationResult($"Rag:Pricing:Models:{i} ({m.ModelId}) has a negative price.");
            }
        }
    }

    public PriceTable ToPriceTable() =>
        new(Models.Select(m => KeyValuePair.Create(m.ModelId, new ModelPrice(m.InputPerMillion, m.OutputPerMillion, m.CacheReadPerMillion, m.CacheWritePerMillion))));
}

public sealed class ModelPriceOverride
{
    public string ModelId { get; set; } = string.Empty;

    public decimal InputPerMillion { get; set; }

    public decimal OutputPerMillion { get; set; }

    public decimal CacheReadPerMillion { get; set; }

    public decimal CacheWritePerMillion { get; set; }
}
