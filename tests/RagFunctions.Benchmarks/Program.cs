using BenchmarkDotNet.Running;
using RagFunctions.Benchmarks;

if (args is ["--cold-start-once"])
{
    // One fresh-process cold start from a publish folder (scripts/cold-start runs it R2R and JIT, alternating).
    await ColdStartOnce.RunAsync();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(QueryOverheadBenchmarks).Assembly).Run(args);
