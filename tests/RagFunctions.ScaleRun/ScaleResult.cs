using System.Globalization;
using System.Text;

namespace RagFunctions.ScaleRun;

/// <summary>What one step measured. Seconds and bytes as measured; the table rounds.</summary>
internal sealed record ScaleResult(
    int Pods,
    int Lifetimes,
    double PushedSeconds,
    string LoadAverage,
    double SeriesPerLifetimeBefore,
    double SeriesPerLifetimeAfter,
    double ScrapeMeanBefore,
    double ScrapeMaxBefore,
    double ScrapeMeanAfter,
    double ScrapeMaxAfter,
    double SamplesScrapedMax,
    double SamplesKeptMaxBefore,
    double SamplesKeptMaxAfter,
    double BodyBytesMean,
    double BodyBytesMax,
    double GetMean,
    double GetMax,
    double FoldMean,
    double FoldMax,
    double GroupsMax,
    int TruthSeries,
    int Mismatches,
    int GroupsLeft)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Pods} pods: {Lifetimes} lifetimes in {PushedSeconds:F0} s, series/lifetime {SeriesPerLifetimeBefore:F1} → {SeriesPerLifetimeAfter:F1}, " +
        $"scrape {ScrapeMeanBefore * 1000:F1}/{ScrapeMaxBefore * 1000:F1} → {ScrapeMeanAfter * 1000:F1}/{ScrapeMaxAfter * 1000:F1} ms, body {BodyBytesMean / 1000:F0}/{BodyBytesMax / 1000:F0} KB, " +
        $"fold {FoldMean * 1000:F0}/{FoldMax * 1000:F0} ms, groups ≤ {GroupsMax:F0}, ledger {TruthSeries} series, {Mismatches} mismatches, {GroupsLeft} groups left; load {LoadAverage}");

    public static string MarkdownTable(IEnumerable<ScaleResult> results)
    {
        var text = new StringBuilder();
        text.Append("| live pods | lifetimes (s) | series created per lifetime: before → after | Pushgateway scrape duration mean / max (ms): before → after | samples scraped max (kept: before → after) | scrape body mean / max (KB) | ledger fold per cycle mean / max (ms) | groups max | ledger vs truth | groups left | load average |\n");
        text.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in results)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| {r.Pods} | {r.Lifetimes} ({r.PushedSeconds:F0}) | {r.SeriesPerLifetimeBefore:F1} → **{r.SeriesPerLifetimeAfter:F1}** | " +
                $"{r.ScrapeMeanBefore * 1000:F1} / {r.ScrapeMaxBefore * 1000:F1} → {r.ScrapeMeanAfter * 1000:F1} / {r.ScrapeMaxAfter * 1000:F1} | " +
                $"{r.SamplesScrapedMax:F0} ({r.SamplesKeptMaxBefore:F0} → {r.SamplesKeptMaxAfter:F0}) | {r.BodyBytesMean / 1000:F0} / {r.BodyBytesMax / 1000:F0} | " +
                $"{r.FoldMean * 1000:F0} / {r.FoldMax * 1000:F0} | {r.GroupsMax:F0} | " +
                $"{(r.Mismatches == 0 ? $"exact ({r.TruthSeries} series)" : $"{r.Mismatches} of {r.TruthSeries} series differ")} | {r.GroupsLeft} | {r.LoadAverage} |\n");
        }

        return text.ToString();
    }
}
