using System.Globalization;
using System.Text;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>Ground truth: the sum over instances of each series' final pushed value, keyed like the ledger series.</summary>
internal sealed class SeriesTruth
{
    private readonly Dictionary<string, double> _totals = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, double> Totals => _totals;

    /// <summary>Adds one instance's final exposition text (what its last accepted push carried).</summary>
    public void Add(string exposition)
    {
        foreach (var raw in exposition.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var value = double.Parse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
            var brace = series.IndexOf('{');
            var name = brace < 0 ? series : series[..brace];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0)
            {
                foreach (var pair in series[(brace + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = pair.IndexOf('=');
                    labels[pair[..eq]] = pair[(eq + 2)..^1];
                }
            }

            var key = Key(name, labels);
            _totals[key] = _totals.GetValueOrDefault(key) + value;
        }
    }

    /// <summary>name{sorted labels} without job/instance/__name__, with le normalized to a round-trip double.</summary>
    public static string Key(string name, IReadOnlyDictionary<string, string> labels)
    {
        var builder = new StringBuilder(name).Append('{');
        foreach (var (label, value) in labels.Where(l => l.Key is not ("job" or "instance" or "__name__")).OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            var normalized = label == "le" && value != "+Inf"
                ? double.Parse(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)
                : value;
            builder.Append(label).Append("=\"").Append(normalized).Append("\",");
        }

        return builder.Append('}').ToString();
    }
}
