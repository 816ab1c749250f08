using System.Globalization;
using System.Text;

namespace RagFunctions.IntegrationTests.EndToEnd;

/// <summary>The measured figures, for the test log and the README table.</summary>
internal sealed record EndToEndFigures(
    int Instances,
    int UnderOneScrape,
    int LedgerKills,
    double TruthCostUsd,
    double LedgerTotalUsd,
    double LedgerTotalRelError,
    double SpendTodayUsd,
    double SpendTodayRelError,
    double TruthTokens,
    double LedgerTokens,
    int PerPodSeriesStored,
    double LedgerIncreaseUsd,
    double LedgerIncreaseErrorPercent,
    double DurationSeconds)
{
    public string Markdown()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"End-to-end run: {Instances} real app instances ({UnderOneScrape} lived under one 1 s scrape interval), ledger SIGKILLed and restarted {LedgerKills}x, {DurationSeconds:F0} s.");
        text.AppendLine();
        text.AppendLine("| query | USD | error vs truth |");
        text.AppendLine("|---|---|---|");
        text.AppendLine(c, $"| truth: sum of every instance's final rag_cost_dollars_total | {TruthCostUsd:R} | |");
        text.AppendLine(c, $"| `sum(increase(rag_cost_dollars_total{{job=\"rag-ledger\"}}[10m]))` (window-edge extrapolation) | {LedgerIncreaseUsd:R} | {LedgerIncreaseErrorPercent:+0.00;-0.00;0.00} % |");
        text.AppendLine(c, $"| ledger `sum(rag_cost_dollars_total{{job=\"rag-ledger\"}})` | {LedgerTotalUsd:R} | {LedgerTotalRelError:0.0E+0} (relative) |");
        text.AppendLine(c, $"| recording rule `rag:spend_today_dollars` | {SpendTodayUsd:R} | {SpendTodayRelError:0.0E+0} (relative) |");
        text.AppendLine();
        text.AppendLine(c, $"Tokens: truth {TruthTokens:R}, ledger {LedgerTokens:R}.");
        text.AppendLine(c, $"Per-pod series Prometheus stored (job rag-functions, whole run): {PerPodSeriesStored} for {Instances} pod lifetimes; per-pod cost is not stored, so the naive per-pod `increase()` has no data.");
        return text.ToString();
    }
}
