using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.Extensions.DependencyInjection;
using RagFunctions.Core.Metrics;
using RagFunctions.Core.Pipeline;

namespace RagFunctions.Benchmarks;

/// <summary>
/// Composition + index build: <c>AddRagPipeline</c> with in-memory settings, build the provider, resolve
/// <see cref="RagPipeline"/> (which loads and indexes the shipped corpus and creates every metric series). Target ≤ 400 ms.
/// Two jobs: "FreshProcess" measures the first and only invocation of each of 10 new processes (JIT and type loading
/// included: what a new worker pays); "WarmRuntime" rebuilds it 10 times in one process (the work itself).
/// The second benchmark adds the first answer (extractive), which also loads the o200k tokenizer.
/// </summary>
[Config(typeof(PercentilesConfig))]
[SimpleJob(RunStrategy.ColdStart, launchCount: 10, warmupCount: 0, iterationCount: 1, id: "FreshProcess")]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 10, id: "WarmRuntime")]
public class ColdStartBenchmarks
{
    [Benchmark(Baseline = true, Description = "compose + resolve RagPipeline (index build)")]
    public string ComposeAndIndex()
    {
        using var services = BenchComposition.Build();
        return services.GetRequiredService<RagPipeline>().ModelId;
    }

    [Benchmark(Description = "… + first extractive answer")]
    public async Task<int> ComposeIndexAndFirstAnswer()
    {
        await using var services = BenchComposition.Build();
        var pipeline = services.GetRequiredService<RagPipeline>();
        var answer = await pipeline.AnswerAsync(QueryOrigin.Http, "default", _ => Task.FromResult(new RagQuery(BenchComposition.Questions[0], null)), CancellationToken.None);
        return answer.Sources.Count;
    }
}
