using System.Text;
using RagFunctions.Core.Metrics;
using RagFunctions.IntegrationTests.Ledger;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>An instance's own registry read as text, keyed like <see cref="LedgerCheck"/> keys the Pushgateway's series.</summary>
internal static class Exposition
{
    public static async Task<Dictionary<string, double>> ReadAsync(RagMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        var truth = new SeriesTruth();
        truth.Add(Encoding.UTF8.GetString(stream.ToArray()));
        return truth.Totals.Where(t => t.Key.StartsWith("rag_", StringComparison.Ordinal)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    /// <summary>Sum of <paramref name="name"/>'s series carrying every label pair given (e.g. <c>error_type="throttling"</c>).</summary>
    public static async Task<double> ValueAsync(RagMetrics metrics, string name, params string[] labels) =>
        LedgerCheck.Total(await ReadAsync(metrics), name, labels);
}
