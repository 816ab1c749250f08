using System.Text.Json.Serialization;

namespace RagFunctions.Ledger;

/// <summary>
/// Everything the ledger knows, saved as one versioned document: totals per series, per-instance watermarks
/// (the highest value folded from each series of each live instance), tombstones of retired instances and the ledger's own counters.
/// </summary>
public sealed class LedgerState
{
    /// <summary>Family name → TYPE and HELP, so the ledger can serve its totals after a restart without the Pushgateway.</summary>
    public Dictionary<string, FamilyInfo> Families { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Unit key (<c>family{labels}</c>, without job/instance) → totals of that counter or histogram label set.</summary>
    public Dictionary<string, LedgerUnit> Units { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Instance id → its watermarks.</summary>
    public Dictionary<string, InstanceMark> Instances { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Retired instance id → unix seconds of its retirement.</summary>
    public Dictionary<string, double> Tombstones { get; init; } = new(StringComparer.Ordinal);

    public LedgerCounters Counters { get; init; } = new();

    /// <summary>Exact spend per tenant in the current UTC day and month, from the folded rag_cost_dollars_total increases.</summary>
    public TenantSpend Spend { get; init; } = new();
}

/// <summary>Prometheus TYPE (<c>counter</c> or <c>histogram</c>) and HELP of a folded family.</summary>
public sealed record FamilyInfo(string Type, string Help);

/// <summary>One counter series or one histogram label set; a unit is exposed (or held at 0) as a whole.</summary>
public sealed class LedgerUnit
{
    public required string Family { get; init; }

    /// <summary>Canonical label text without braces: <c>a="x",b="y"</c>, sorted by name.</summary>
    public required string Labels { get; init; }

    /// <summary>
    /// Unix seconds when a scrape of /metrics first served this unit at 0; null until then. The JSON name is the one of
    /// the pushing ledger, whose stamps (when its push of the zero was accepted) mean the same and stay valid.
    /// </summary>
    [JsonPropertyName("FirstPushedAt")]
    public double? FirstServedAt { get; set; }

    /// <summary>Part (<see cref="SamplePart"/>) → total over all instances ever.</summary>
    public Dictionary<string, double> Values { get; init; } = new(StringComparer.Ordinal);
}

public sealed class InstanceMark
{
    /// <summary>Highest push_time_seconds of the groups of this instance folded so far.</summary>
    public double PushTime { get; set; }

    /// <summary>Sample id → highest value folded so far (max watermark; never lowered). Zeros are left out to keep the state small.</summary>
    public Dictionary<string, double> Values { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The group was missing from the Pushgateway at the last fold before it went stale (counted once per disappearance).</summary>
    public bool Vanished { get; set; }
}

public sealed class LedgerCounters
{
    public long Commits { get; set; }

    public long GroupsRetired { get; set; }

    /// <summary>Groups that carried a value below its watermark (an older body seen after a newer one); they add nothing.</summary>
    public long StaleReplaysIgnored { get; set; }

    public long TombstonedPushesDropped { get; set; }

    /// <summary>Instance groups that disappeared from the Pushgateway before they went stale (deleted by someone else, or lost).</summary>
    public long GroupsVanished { get; set; }

    /// <summary>Groups found under the ledger's own job on the Pushgateway (forged or misconfigured), each push counted once.</summary>
    public long ForeignGroups { get; set; }

    /// <summary>Grouping key → push time of the foreign groups counted and not yet seen deleted.</summary>
    public Dictionary<string, double> ForeignSeen { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Family → folds in which one instance's increase of that family exceeded its plausibility bound.</summary>
    public Dictionary<string, long> ImplausibleDeltas { get; init; } = new(StringComparer.Ordinal);
}

[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LedgerState))]
internal sealed partial class LedgerStateJson : JsonSerializerContext;
