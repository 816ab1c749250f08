using System.Globalization;

namespace RagFunctions.IntegrationTests.Ledger;

/// <summary>Compares ledger series with their ground truth, series by series.</summary>
internal static class SeriesComparison
{
    /// <summary>
    /// Series where the ledger differs from the truth by more than a relative 1e-9 (so a zero truth needs an exact zero,
    /// and NaN or an infinity of the wrong sign never matches), or that only one side has.
    /// </summary>
    public static List<string> Mismatches(IReadOnlyDictionary<string, double> truth, IReadOnlyDictionary<string, double> ledger)
    {
        var mismatches = new List<string>();
        foreach (var (key, expected) in truth)
        {
            if (!ledger.TryGetValue(key, out var actual))
            {
                mismatches.Add($"{key} missing from the ledger");
            }
            else if (!(actual == expected || Math.Abs(actual - expected) <= 1e-9 * Math.Max(Math.Abs(expected), 1e-300)))
            {
                mismatches.Add($"{key}: ledger {actual.ToString("R", CultureInfo.InvariantCulture)}, truth {expected.ToString("R", CultureInfo.InvariantCulture)}");
            }
        }

        mismatches.AddRange(ledger.Keys.Where(k => !truth.ContainsKey(k)).Select(k => $"{k} only in the ledger, not in the truth"));
        return mismatches;
    }

    /// <summary>
    /// As above for series read from Prometheus or the Pushgateway (labels including __name__), keyed like
    /// <see cref="SeriesTruth.Key"/>; two series with the same key throw.
    /// </summary>
    public static List<string> Mismatches(IReadOnlyDictionary<string, double> truth, IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> ledger) =>
        Mismatches(truth, ledger.ToDictionary(s => SeriesTruth.Key(s.Labels["__name__"], s.Labels), s => s.Value, StringComparer.Ordinal));
}
