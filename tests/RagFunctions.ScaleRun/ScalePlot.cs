using ScottPlot;

namespace RagFunctions.ScaleRun;

/// <summary>How each cost grows with the number of live pods: four panels, one per cost, sharing the pods axis.</summary>
internal static class ScalePlot
{
    public static void Save(IReadOnlyList<ScaleResult> results, string path)
    {
        var pods = results.Select(r => (double)r.Pods).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, 2);
        Panel(multiplot.GetPlot(0), "TSDB series created per pod lifetime", "series", pods,
            ("relabelling off (before)", results.Select(r => r.SeriesPerLifetimeBefore)),
            ("Terraform metricRelabelings (after)", results.Select(r => r.SeriesPerLifetimeAfter)));
        Panel(multiplot.GetPlot(1), "Pushgateway scrape duration", "ms", pods,
            ("mean, before", results.Select(r => r.ScrapeMeanBefore * 1000)),
            ("max, before", results.Select(r => r.ScrapeMaxBefore * 1000)),
            ("mean, after", results.Select(r => r.ScrapeMeanAfter * 1000)),
            ("max, after", results.Select(r => r.ScrapeMaxAfter * 1000)));
        Panel(multiplot.GetPlot(2), "Pushgateway scrape body", "KB", pods,
            ("mean", results.Select(r => r.BodyBytesMean / 1000)),
            ("max", results.Select(r => r.BodyBytesMax / 1000)));
        Panel(multiplot.GetPlot(3), "Ledger fold per cycle (rag_ledger_fold_seconds)", "ms", pods,
            ("mean", results.Select(r => r.FoldMean * 1000)),
            ("max", results.Select(r => r.FoldMax * 1000)));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        multiplot.SavePng(path, 1200, 800);
    }

    private static void Panel(Plot plot, string title, string unit, double[] pods, params (string Label, IEnumerable<double> Values)[] series)
    {
        var top = 0.0;
        foreach (var (label, values) in series)
        {
            var ys = values.Select(v => double.IsFinite(v) ? v : 0).ToArray();
            top = Math.Max(top, ys.DefaultIfEmpty(0).Max());
            var line = plot.Add.Scatter(pods, ys);
            line.LegendText = label;
        }

        plot.Title(title);
        plot.XLabel("live pods");
        plot.YLabel(unit);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsY(0, Math.Max(top, 1) * 1.15);
        plot.ShowLegend(Alignment.UpperLeft);
    }
}
