using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RagFunctions.Ledger;

/// <summary>One sample of an instance group: a counter value, or a histogram's bucket, sum or count.</summary>
/// <param name="Family">Metric family name (histograms without _bucket/_sum/_count).</param>
/// <param name="Labels">Canonical label text without job and instance (<see cref="SamplePart.CanonicalLabels"/>).</param>
/// <param name="Part">"" for a counter, "sum", "count", or "le:&lt;bound&gt;" for a bucket.</param>
/// <remarks>
/// The key parts are get-only, so <see cref="Unit"/> and <see cref="Id"/> are built once, when the sample is made, not on
/// every read (the fold reads them for every sample of every group), and a <c>with</c> can change only <see cref="Value"/>.
/// </remarks>
public sealed record Sample(string Family, string Labels, string Part, double Value)
{
    public string Family { get; } = Family;

    public string Labels { get; } = Labels;

    public string Part { get; } = Part;

    /// <summary>The ledger unit this sample belongs to: <see cref="SamplePart.UnitKey"/>.</summary>
    public string Unit { get; } = SamplePart.UnitKey(Family, Labels);

    /// <summary>The sample's key in an instance's watermarks: <see cref="SamplePart.SampleId"/>.</summary>
    public string Id { get; } = SamplePart.SampleId(Family, Labels, Part);
}

/// <summary>One per-instance group on the Pushgateway, reduced to the foldable rag_ families.</summary>
public sealed record InstanceGroup(string Instance, double PushTime, IReadOnlyDictionary<string, FamilyInfo> Families, IReadOnlyList<Sample> Samples);

public static class SamplePart
{
    public const string Counter = "";
    public const string Sum = "sum";
    public const string Count = "count";

    public static string Bucket(double upperBound) => "le:" + FormatBound(upperBound);

    public static bool TryGetBucket(string part, out double upperBound)
    {
        upperBound = 0;
        return part.StartsWith("le:", StringComparison.Ordinal) && TryParseValue(part[3..], out upperBound);
    }

    public static string UnitKey(string family, string labels) => family + "{" + labels + "}";

    /// <summary><c>family{labels}#part</c>: the unit key and the part, in one allocation.</summary>
    public static string SampleId(string family, string labels, string part) => string.Concat([family, "{", labels, "}#", part]);

    public static string FormatBound(double bound) => double.IsPositiveInfinity(bound) ? "+Inf" : FormatValue(bound);

    /// <summary>Round-trippable, culture-invariant: totals survive text exactly.</summary>
    public static string FormatValue(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    public static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf" or "Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    /// <summary>The (unescaped) value of label <paramref name="name"/> in canonical label text, or null when it has none.</summary>
    public static string? LabelValue(string canonicalLabels, string name)
    {
        var i = 0;
        while (i < canonicalLabels.Length)
        {
            var eq = canonicalLabels.IndexOf("=\"", i, StringComparison.Ordinal);
            if (eq < 0)
            {
                return null;
            }

            var matches = canonicalLabels.AsSpan(i, eq - i).SequenceEqual(name);
            var value = new StringBuilder();
            var j = eq + 2;
            for (; j < canonicalLabels.Length && canonicalLabels[j] != '"'; j++)
            {
                if (canonicalLabels[j] == '\\' && j + 1 < canonicalLabels.Length)
                {
                    j++;
                    value.Append(canonicalLabels[j] == 'n' ? '\n' : canonicalLabels[j]);
                }
                else
                {
                    value.Append(canonicalLabels[j]);
                }
            }

            if (matches)
            {
                return value.ToString();
            }

            i = j + 2; // past the closing quote and the comma
        }

        return null;
    }

    /// <summary>Sorted by name, job/instance/le dropped, values escaped as in the text format.</summary>
    public static string CanonicalLabels(IEnumerable<KeyValuePair<string, string>> labels)
    {
        var builder = new StringBuilder();
        foreach (var (name, value) in labels.Where(l => l.Key is not ("job" or "instance" or "le")).OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(name).Append("=\"");
            foreach (var c in value)
            {
                _ = c switch
                {
                    '\\' => builder.Append("\\\\"),
                    '"' => builder.Append("\\\""),
                    '\n' => builder.Append("\\n"),
                    _ => builder.Append(c),
                };
            }

            builder.Append('"');
        }

        return builder.ToString();
    }
}

/// <summary>A group on the Pushgateway under the ledger's own job: nobody may push there; the ledger counts and deletes it.</summary>
/// <param name="Key">Its grouping key, canonical: <c>name=value</c> of its labels other than job, sorted, values URL-escaped.</param>
/// <param name="Labels">Its grouping labels other than job, for the DELETE.</param>
public sealed record ForeignGroup(string Key, IReadOnlyDictionary<string, string> Labels, double PushTime);

/// <summary>What one read of the Pushgateway holds, for one fold.</summary>
/// <param name="GroupCount">Groups of any job (for the ledger's own gauge).</param>
public sealed record PushgatewaySnapshot(IReadOnlyList<InstanceGroup> Instances, IReadOnlyList<ForeignGroup> Foreign, int GroupCount);

/// <summary>Reads the Pushgateway's <c>GET /api/v1/metrics</c> answer.</summary>
public static class PushgatewayGroups
{
    public const string LedgerFamilyPrefix = "rag_ledger_";

    /// <summary>
    /// The groups of <paramref name="instanceJob"/> that have an instance label, with only their rag_ counters and
    /// histograms, and every group under <paramref name="ledgerJob"/> (which only a forger or a misconfigured client
    /// pushes: the ledger serves its totals itself). Other jobs and rag_ledger_* families are never folded.
    /// </summary>
    public static PushgatewaySnapshot Parse(string json, string instanceJob, string ledgerJob)
    {
        using var document = JsonDocument.Parse(json);
        var data = document.RootElement.GetProperty("data");
        var groups = new List<InstanceGroup>();
        var foreign = new List<ForeignGroup>();
        foreach (var group in data.EnumerateArray())
        {
            var groupLabels = ReadLabels(group.GetProperty("labels"));
            if (groupLabels.GetValueOrDefault("job") == ledgerJob)
            {
                var key = groupLabels.Where(l => l.Key != "job").ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
                var canonical = string.Join('/', key.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + Uri.EscapeDataString(l.Value)));
                foreign.Add(new ForeignGroup(canonical, key, ReadPushTime(group)));
                continue;
            }

            if (!groupLabels.TryGetValue("job", out var job) || job != instanceJob
                || !groupLabels.TryGetValue("instance", out var instance) || string.IsNullOrEmpty(instance))
            {
                continue;
            }

            var pushTime = ReadPushTime(group);
            var families = new Dictionary<string, FamilyInfo>(StringComparer.Ordinal);
            var samples = new List<Sample>();
            foreach (var property in group.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Object || !property.Value.TryGetProperty("metrics", out var metrics))
                {
                    continue;
                }

                var name = property.Name;
                var type = property.Value.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (!name.StartsWith("rag_", StringComparison.Ordinal) || name.StartsWith(LedgerFamilyPrefix, StringComparison.Ordinal)
                    || type is not ("COUNTER" or "HISTOGRAM"))
                {
                    continue;
                }

                var help = property.Value.TryGetProperty("help", out var h) ? h.GetString() ?? string.Empty : string.Empty;
                families[name] = new FamilyInfo(type == "COUNTER" ? "counter" : "histogram", help);
                foreach (var metric in metrics.EnumerateArray())
                {
                    var labels = SamplePart.CanonicalLabels(ReadLabels(metric.GetProperty("labels")));
                    if (type == "COUNTER")
                    {
                        samples.Add(new Sample(name, labels, SamplePart.Counter, ReadNumber(metric, "value")));
                        continue;
                    }

                    foreach (var bucket in metric.GetProperty("buckets").EnumerateObject())
                    {
                        if (SamplePart.TryParseValue(bucket.Name, out var bound))
                        {
                            samples.Add(new Sample(name, labels, SamplePart.Bucket(bound), ReadNumber(bucket.Value)));
                        }
                    }

                    samples.Add(new Sample(name, labels, SamplePart.Sum, ReadNumber(metric, "sum")));
                    samples.Add(new Sample(name, labels, SamplePart.Count, ReadNumber(metric, "count")));
                }
            }

            if (!double.IsNaN(pushTime))
            {
                groups.Add(new InstanceGroup(instance, pushTime, families, samples));
            }
        }

        return new PushgatewaySnapshot(groups, foreign, data.GetArrayLength());
    }

    private static double ReadPushTime(JsonElement group) =>
        group.TryGetProperty("push_time_seconds", out var family) && family.TryGetProperty("metrics", out var metrics)
        && metrics.GetArrayLength() > 0 && SamplePart.TryParseValue(metrics[0].GetProperty("value").GetString() ?? "NaN", out var time) ? time : double.NaN;

    private static Dictionary<string, string> ReadLabels(JsonElement labels)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in labels.EnumerateObject())
        {
            result[label.Name] = label.Value.GetString() ?? string.Empty;
        }

        return result;
    }

    private static double ReadNumber(JsonElement metric, string property) => ReadNumber(metric.GetProperty(property));

    private static double ReadNumber(JsonElement value) =>
        SamplePart.TryParseValue(value.GetString() ?? "NaN", out var number) ? number : double.NaN;
}
