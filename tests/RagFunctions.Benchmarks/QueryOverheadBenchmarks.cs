using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;
using RagFunctions.Tests.Shared;

namespace RagFunctions.Benchmarks;

/// <summary>
/// In-process cost of one query excluding the model call: validation, BM25 retrieval on the shipped corpus, prompt build,
/// metering and the answer shape, through the real <see cref="RagPipeline"/> composed by <c>AddRagPipeline</c>.
/// Target: p99 ≤ 5 ms. Questions rotate over <see cref="BenchComposition.Questions"/>.
/// "Extractive answerer" adds the offline answerer (sentence scoring + o200k token counts of prompt and answer): what a
/// local run pays per query, not overhead of the Bedrock path.
/// </summary>
[Config(typeof(PerOperationConfig))]
public class QueryOverheadBenchmarks
{
    // A priced model id, so a query through the stand-in meters cost exactly as a Bedrock one does.
    private const string ZeroLatencyModelId = "amazon.nova-lite-v1:0";

    private ServiceProvider _zeroLatencyServices = null!;
    private ServiceProvider _extractiveServices = null!;
    private RagPipeline _zeroLatency = null!;
    private RagPipeline _extractive = null!;
    private RagQuery[] _queries = null!;
    private Func<CancellationToken, Task<RagQuery>>[] _reads = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _zeroLatencyServices = BenchComposition.Build(InstantModel());
        _extractiveServices = BenchComposition.Build();
        _zeroLatency = _zeroLatencyServices.GetRequiredService<RagPipeline>();
        _extractive = _extractiveServices.GetRequiredService<RagPipeline>();
        _queries = [.. BenchComposition.Questions.Select(q => new RagQuery(q, null))];
        // What a trigger hands the pipeline: a query already read, so the figure holds no body parsing and no allocation for it.
        _reads = [.. _queries.Select(Func<CancellationToken, Task<RagQuery>> (q) => { var read = Task.FromResult(q); return _ => read; })];
        if (_zeroLatency.ModelId != ZeroLatencyModelId)
        {
            throw new InvalidOperationException($"Zero-latency model not composed: pipeline uses {_zeroLatency.ModelId}.");
        }

        // Every question must retrieve context, or the benchmark would measure the cheap no-context path.
        for (var i = 0; i < _queries.Length; i++)
        {
            var answer = _zeroLatency.AnswerAsync(QueryOrigin.Http, "default", _reads[i], CancellationToken.None).GetAwaiter().GetResult();
            if (answer.Sources.Count == 0)
            {
                throw new InvalidOperationException($"No passages for '{_queries[i].Question}'.");
            }
        }
    }

    /// <summary>Answers instantly with fixed, Bedrock-shaped usage, so a query through it costs exactly the pipeline's own work.</summary>
    private static FakeModel InstantModel() =>
        new(ZeroLatencyModelId, "Check the runbook for the alert [1].", input: 1_200, output: 150, cacheRead: 512, cacheWrite: 0);

    [GlobalCleanup]
    public void Cleanup()
    {
        _zeroLatencyServices.Dispose();
        _extractiveServices.Dispose();
    }

    [Benchmark(Baseline = true, Description = "pipeline with zero-latency model")]
    public Task<RagAnswer> ZeroLatencyModel() => _zeroLatency.AnswerAsync(QueryOrigin.Http, "default", NextQuery(), CancellationToken.None);

    [Benchmark(Description = "pipeline with extractive answerer")]
    public Task<RagAnswer> ExtractiveAnswerer() => _extractive.AnswerAsync(QueryOrigin.Http, "default", NextQuery(), CancellationToken.None);

    private Func<CancellationToken, Task<RagQuery>> NextQuery() => _reads[_next++ % _reads.Length];
}
