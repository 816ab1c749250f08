using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Prometheus;
using HistogramConfiguration = Prometheus.HistogramConfiguration;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Benchmarks;

/// <summary>
/// The metering cost of one successful query: every metric update <c>RagPipeline</c> and <c>MeteredAnswerGenerator</c> make for
/// it, 11 in all — retrieval, generation and total stage histograms, retrieved-documents histogram, 4 token counters, cost
/// counter, query-cost histogram, requests counter. Four ways, same run, same values, so the figures compare:
/// prometheus-net through <see cref="RagMetrics"/>' pre-bound children (the product path; target ≤ 100 ns, 0 B),
/// prometheus-net <c>WithLabels(...)</c> on every update (the naive way), the OpenTelemetry .NET SDK with the same
/// instruments, tags and buckets behind a reader (so every instrument is enabled and aggregates), and 11 plain
/// Interlocked adds (the floor).
/// </summary>
[Config(typeof(PercentilesConfig))]
public class MeteringBenchmarks
{
    private const string Environment = "bench";
    private const string Model = "amazon.nova-lite-v1:0";
    private const long InputTokens = 1_200;
    private const long OutputTokens = 150;
    private const long CacheReadTokens = 512;
    private const long CacheWriteTokens = 0;
    private const double CostDollars = 0.000_115_68;

    // The same cost as the app prices it: a decimal, added as the exact running total (ModelMeters.AddCost).
    private const decimal CostDecimal = 0.000_115_68m;
    private const double RetrievalSeconds = 0.000_35;
    private const double GenerationSeconds = 0.82;
    private const double TotalSeconds = 0.821;
    private const int RetrievedDocuments = 4;

    private RagMetrics _metrics = null!;
    private RagMetrics.ModelMeters _model = null!;

    // The pipeline reports a query's outcome through the observer interface, so the benchmark does too.
    private IQueryOutcomeObserver _outcomes = null!;

    private Counter _naiveCost = null!;
    private Counter _naiveTokens = null!;
    private Histogram _naiveDuration = null!;
    private Counter _naiveRequests = null!;
    private Histogram _naiveQueryCost = null!;
    private Histogram _naiveRetrieved = null!;

    private Meter _meter = null!;
    private MeterProvider _meterProvider = null!;
    private Counter<double> _otelCost = null!;
    private Counter<long> _otelTokens = null!;
    private Histogram<double> _otelDuration = null!;
    private Counter<long> _otelRequests = null!;
    private Histogram<double> _otelQueryCost = null!;
    private Histogram<long> _otelRetrieved = null!;

    private readonly CountingExporter _exporter = new();
    private readonly long[] _floor = new long[16 * 11];

    [GlobalSetup]
    public void Setup()
    {
        _metrics = new RagMetrics(Environment, [Model], ["default"]);
        _model = _metrics.ForModel(Model, "default");
        _outcomes = _metrics;

        var factory = Prometheus.Metrics.WithCustomRegistry(Prometheus.Metrics.NewCustomRegistry());
        _naiveCost = factory.CreateCounter("rag_cost_dollars_total", "cost", new CounterConfiguration { LabelNames = ["model", "environment"] });
        _naiveTokens = factory.CreateCounter("rag_token_usage_total", "tokens", new CounterConfiguration { LabelNames = ["model", "type", "environment"] });
        _naiveDuration = factory.CreateHistogram("rag_request_duration_seconds", "duration",
            new HistogramConfiguration { LabelNames = ["stage", "environment"], Buckets = RagMetrics.DurationBuckets });
        _naiveRequests = factory.CreateCounter("rag_requests_total", "requests", new CounterConfiguration { LabelNames = ["trigger", "outcome", "environment"] });
        _naiveQueryCost = factory.CreateHistogram("rag_query_cost_dollars", "query cost",
            new HistogramConfiguration { LabelNames = ["model", "environment"], Buckets = RagMetrics.QueryCostBuckets });
        _naiveRetrieved = factory.CreateHistogram("rag_retrieved_documents", "retrieved",
            new HistogramConfiguration { LabelNames = ["environment"], Buckets = RagMetrics.RetrievedDocumentBuckets });

        var meterName = "RagFunctions.Benchmarks." + Guid.NewGuid().ToString("N");
        _meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meterName)
            .AddView("rag_request_duration_seconds", new ExplicitBucketHistogramConfiguration { Boundaries = RagMetrics.DurationBuckets })
            .AddView("rag_query_cost_dollars", new ExplicitBucketHistogramConfiguration { Boundaries = RagMetrics.QueryCostBuckets })
            .AddView("rag_retrieved_documents", new ExplicitBucketHistogramConfiguration { Boundaries = RagMetrics.RetrievedDocumentBuckets })
            .AddReader(new BaseExportingMetricReader(_exporter))
            .Build();
        _meter = new Meter(meterName);
        _otelCost = _meter.CreateCounter<double>("rag_cost_dollars_total");
        _otelTokens = _meter.CreateCounter<long>("rag_token_usage_total");
        _otelDuration = _meter.CreateHistogram<double>("rag_request_duration_seconds");
        _otelRequests = _meter.CreateCounter<long>("rag_requests_total");
        _otelQueryCost = _meter.CreateHistogram<double>("rag_query_cost_dollars");
        _otelRetrieved = _meter.CreateHistogram<long>("rag_retrieved_documents");
        if (!_otelCost.Enabled || !_otelDuration.Enabled)
        {
            throw new InvalidOperationException("OpenTelemetry instruments are not enabled: the SDK would skip every update.");
        }
    }

    // Each cleanup proves its variant's updates landed where they were meant to, so no variant measured a no-op.
    [GlobalCleanup(Target = nameof(PrometheusCachedChildren))]
    public void CleanupCached() => Release(_model.InputTokens.Value > 0 && _metrics.TotalStage.Count > 0, "RagMetrics children");

    [GlobalCleanup(Target = nameof(PrometheusWithLabels))]
    public void CleanupWithLabels() => Release(_naiveDuration.WithLabels("total", Environment).Count > 0, "WithLabels children");

    [GlobalCleanup(Target = nameof(OpenTelemetrySdk))]
    public void CleanupOpenTelemetry() => Release(_meterProvider.ForceFlush() && _exporter.PointsExported > 0, "OpenTelemetry instruments");

    [GlobalCleanup(Target = nameof(InterlockedFloor))]
    public void CleanupFloor() => Release(_floor[160] > 0, "Interlocked floor");

    [Benchmark(Baseline = true, Description = "prometheus-net, RagMetrics cached children")]
    public void PrometheusCachedChildren()
    {
        _metrics.RetrievalStage.Observe(RetrievalSeconds);
        _metrics.RetrievedDocuments.Observe(RetrievedDocuments);
        _metrics.GenerationStage.Observe(GenerationSeconds);
        _model.InputTokens.Inc(InputTokens);
        _model.OutputTokens.Inc(OutputTokens);
        _model.CacheReadTokens.Inc(CacheReadTokens);
        _model.CacheWriteTokens.Inc(CacheWriteTokens);
        _model.AddCost(CostDecimal);
        _model.QueryCost.Observe(CostDollars);
        _metrics.TotalStage.Observe(TotalSeconds);
        _outcomes.QueryCompleted(QueryOrigin.Http, QueryOutcome.Success, "default");
    }

    [Benchmark(Description = "prometheus-net, WithLabels per update")]
    public void PrometheusWithLabels()
    {
        _naiveDuration.WithLabels("retrieval", Environment).Observe(RetrievalSeconds);
        _naiveRetrieved.WithLabels(Environment).Observe(RetrievedDocuments);
        _naiveDuration.WithLabels("generation", Environment).Observe(GenerationSeconds);
        _naiveTokens.WithLabels(Model, "input", Environment).Inc(InputTokens);
        _naiveTokens.WithLabels(Model, "output", Environment).Inc(OutputTokens);
        _naiveTokens.WithLabels(Model, "cache_read", Environment).Inc(CacheReadTokens);
        _naiveTokens.WithLabels(Model, "cache_write", Environment).Inc(CacheWriteTokens);
        _naiveCost.WithLabels(Model, Environment).Inc(CostDollars);
        _naiveQueryCost.WithLabels(Model, Environment).Observe(CostDollars);
        _naiveDuration.WithLabels("total", Environment).Observe(TotalSeconds);
        _naiveRequests.WithLabels("http", "success", Environment).Inc();
    }

    [Benchmark(Description = "OpenTelemetry .NET SDK 1.20.1")]
    public void OpenTelemetrySdk()
    {
        var environment = new KeyValuePair<string, object?>("environment", Environment);
        var model = new KeyValuePair<string, object?>("model", Model);
        _otelDuration.Record(RetrievalSeconds, new KeyValuePair<string, object?>("stage", "retrieval"), environment);
        _otelRetrieved.Record(RetrievedDocuments, environment);
        _otelDuration.Record(GenerationSeconds, new KeyValuePair<string, object?>("stage", "generation"), environment);
        _otelTokens.Add(InputTokens, model, new KeyValuePair<string, object?>("type", "input"), environment);
        _otelTokens.Add(OutputTokens, model, new KeyValuePair<string, object?>("type", "output"), environment);
        _otelTokens.Add(CacheReadTokens, model, new KeyValuePair<string, object?>("type", "cache_read"), environment);
        _otelTokens.Add(CacheWriteTokens, model, new KeyValuePair<string, object?>("type", "cache_write"), environment);
        _otelCost.Add(CostDollars, model, environment);
        _otelQueryCost.Record(CostDollars, model, environment);
        _otelDuration.Record(TotalSeconds, new KeyValuePair<string, object?>("stage", "total"), environment);
        _otelRequests.Add(1, new KeyValuePair<string, object?>("trigger", "http"), new KeyValuePair<string, object?>("outcome", "success"), environment);
    }

    /// <summary>11 atomic adds on separate cache lines: the floor of any thread-safe metering.</summary>
    [Benchmark(Description = "11 Interlocked adds (floor)")]
    public void InterlockedFloor()
    {
        Interlocked.Add(ref _floor[0], 35);
        Interlocked.Add(ref _floor[16], RetrievedDocuments);
        Interlocked.Add(ref _floor[32], 820_000);
        Interlocked.Add(ref _floor[48], InputTokens);
        Interlocked.Add(ref _floor[64], OutputTokens);
        Interlocked.Add(ref _floor[80], CacheReadTokens);
        Interlocked.Add(ref _floor[96], CacheWriteTokens);
        Interlocked.Add(ref _floor[112], 11_568);
        Interlocked.Add(ref _floor[128], 11_568);
        Interlocked.Add(ref _floor[144], 821_000);
        Interlocked.Increment(ref _floor[160]);
    }

    private void Release(bool updated, string variant)
    {
        _meterProvider.Dispose();
        _meter.Dispose();
        if (!updated)
        {
            throw new InvalidOperationException($"{variant} were never updated: the figure measured a no-op.");
        }
    }

    /// <summary>Drops what the reader collects, counting the metric points so the run can prove the SDK aggregated.</summary>
    private sealed class CountingExporter : BaseExporter<Metric>
    {
        public long PointsExported { get; private set; }

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    PointsExported++;
                }
            }

            return ExportResult.Success;
        }
    }
}
