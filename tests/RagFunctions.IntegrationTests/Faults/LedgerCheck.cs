using System.Globalization;
using System.Text.RegularExpressions;
using RagFunctions.IntegrationTests.Infrastructure;
using RagFunctions.IntegrationTests.Ledger;

namespace RagFunctions.IntegrationTests.Faults;

/// <summary>
/// Ground truth for the metrics path: the sum, over every instance group in the Pushgateway, of what that instance pushed
/// last, compared series by series with what the ledger serves on its /metrics. Only valid while no group has been retired, so the fault
/// tests run the ledger with a stale age longer than the test.
/// </summary>
internal static partial class LedgerCheck
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>A ledger for fault tests: folds every 0.5 s, no first-sample hold, retires nothing within a test.</summary>
    public static LedgerProcess Start(PushgatewayServer pushgateway, AzuriteFixture azurite) => LedgerProcess.Start(new Dictionary<string, string>
    {
        ["PushgatewayUrl"] = pushgateway.Url.ToString(),
        ["StorageConnectionString"] = azurite.ConnectionString,
        ["StateTable"] = "faults" + Guid.NewGuid().ToString("N")[..8],
        ["ReplicaId"] = "faults",
        ["FoldIntervalSeconds"] = "0.5",
        ["StaleAfterSeconds"] = "600",
        ["FirstSampleHoldSeconds"] = "0",
        ["LeaseSeconds"] = "3",
        ["HttpTimeoutMilliseconds"] = "1000",
        ["TombstoneRetentionSeconds"] = "3600",
    });

    /// <summary>rag_ series of one job in the Pushgateway, summed over its groups, keyed without job and instance.</summary>
    public static async Task<Dictionary<string, double>> SumOfJobAsync(PushgatewayServer pushgateway, string job) =>
        Sum(await Http.GetStringAsync(new Uri(pushgateway.Url, "/metrics")), job);

    /// <summary>The ledger's rag_ totals as its /metrics serves them (rag_ledger_* self-metrics and the rag_budget_spent/limit gauges left out: neither is folded; rag_budget_rejections_total is).</summary>
    public static async Task<Dictionary<string, double>> LedgerTotalsAsync(LedgerProcess ledger) => Sum(await ledger.ScrapeAsync(), job: null);

    /// <summary>rag_ series of a text exposition, of <paramref name="job"/> only (null: every series), summed and keyed without job and instance.</summary>
    private static Dictionary<string, double> Sum(string text, string? job)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var match = Sample().Match(line);
            if (!match.Success || match.Groups["name"].Value.StartsWith("rag_ledger_", StringComparison.Ordinal) || match.Groups["name"].Value is "rag_budget_spent_dollars" or "rag_budget_limit_dollars")
            {
                continue;
            }

            var labels = Label().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
            if (job is not null && labels.GetValueOrDefault("job") != job)
            {
                continue;
            }

            var key = SeriesTruth.Key(match.Groups["name"].Value, labels);
            sums[key] = sums.GetValueOrDefault(key) + double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return sums;
    }

    /// <summary>Waits until the ledger's /metrics equals the sum of the instance groups; returns both.</summary>
    public static async Task<(Dictionary<string, double> Pushed, Dictionary<string, double> Ledger)> WaitForConvergenceAsync(
        PushgatewayServer pushgateway, LedgerProcess ledger, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var pushed = await SumOfJobAsync(pushgateway, "rag-functions");
            var folded = await LedgerTotalsAsync(ledger);
            var mismatches = SeriesComparison.Mismatches(pushed, folded);
            if (pushed.Count > 0 && mismatches.Count == 0)
            {
                return (pushed, folded);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"ledger did not converge on what the instances pushed within {timeout}:\n" +
                    string.Join('\n', mismatches.Take(20)) + $"\nledger output:\n{ledger.Output[^Math.Min(4000, ledger.Output.Length)..]}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Sum of the series of <paramref name="name"/> whose labels include every pair in <paramref name="labels"/>.</summary>
    public static double Total(IReadOnlyDictionary<string, double> series, string name, params string[] labels) =>
        series.Where(s => s.Key.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => s.Key.Contains(l, StringComparison.Ordinal)))
            .Sum(s => s.Value);

    [GeneratedRegex("""^(?<name>rag_[A-Za-z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
