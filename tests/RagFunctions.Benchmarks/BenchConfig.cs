using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace RagFunctions.Benchmarks;

/// <summary>Adds median, P95, P99 and max (the targets are p99) and allocations to the default summary.</summary>
public sealed class PercentilesConfig : ManualConfig
{
    public PercentilesConfig()
    {
        AddColumn(StatisticColumn.Median, StatisticColumn.P95, PercentileColumn.P99, StatisticColumn.Max);
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

/// <summary>
/// BenchmarkDotNet's percentiles are over iteration means; for a per-operation p99 target this job times every operation
/// alone (one invocation per iteration, no unrolling), 500 of them after 20 warm-ups, so P95/P99 are true per-operation tails
/// (each includes the timer's ~20–50 ns, negligible at µs–ms scale).
/// </summary>
public sealed class PerOperationConfig : ManualConfig
{
    public PerOperationConfig()
    {
        Add(new PercentilesConfig());
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(20).WithIterationCount(500)
            .WithInvocationCount(1).WithUnrollFactor(1).WithId("PerOperation"));
    }
}

/// <summary>A percentile of the per-operation time that <see cref="StatisticColumn"/> does not offer (it stops at P95).</summary>
public sealed class PercentileColumn(int percentile) : IColumn
{
    public static readonly IColumn P99 = new PercentileColumn(99);

    public string Id => $"{nameof(PercentileColumn)}.P{percentile}";

    public string ColumnName => $"P{percentile}";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Statistics;

    public int PriorityInCategory => percentile;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Time;

    public string Legend => $"Percentile {percentile}: {percentile}% of all operations took at most this long";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var statistics = summary[benchmarkCase]?.ResultStatistics;
        if (statistics is null)
        {
            return "NA";
        }

        var nanoseconds = statistics.Percentiles.Percentile(percentile);
        var unit = style.TimeUnit ?? TimeUnit.GetBestTimeUnit(nanoseconds);
        var value = (nanoseconds / unit.BaseUnits).ToString("N2", CultureInfo.InvariantCulture);
        return style.PrintUnitsInContent ? $"{value} {unit.Abbreviation}" : value;
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
